"""Where models go on the canvas. Pure Python: positions only, and existing nodes never move.

A network without positions gets a layered layout (one column per depth, left to right); a model added
later takes the first free grid slot, so the picture stays stable as the network grows.
"""
from __future__ import annotations

from workbench.core.network import Network
from workbench.errors import NetworkError

COLUMN, ROW = 300.0, 120.0   # grid pitch in canvas pixels


def place_missing(network: Network) -> None:
    """Give every node without a position one; nodes that have one keep it."""
    missing = [n for n in network.nodes.values() if n.position is None]
    if not missing:
        return
    if len(missing) == len(network.nodes):
        for node_id, position in layered(network).items():
            network.nodes[node_id].position = position
        return
    for node in missing:
        node.position = free_slot(network)


def layered(network: Network) -> dict[str, tuple[float, float]]:
    """Column = longest path from a source; row = order of arrival in that column."""
    try:
        order = network.topological_order()
    except NetworkError:  # a cycle: fall back to a plain grid
        return {n: _grid(i, len(network.nodes)) for i, n in enumerate(network.nodes)}
    depth: dict[str, int] = {}
    for node in order:
        depth[node] = max((depth[p] + 1 for p in network.predecessors(node)), default=0)
    rows: dict[int, int] = {}
    positions = {}
    for node in order:
        column = depth[node]
        positions[node] = (column * COLUMN, rows.get(column, 0) * ROW)
        rows[column] = rows.get(column, 0) + 1
    return positions


def free_slot(network: Network) -> tuple[float, float]:
    """The first grid slot, row by row, that no node covers (columns up to one past the rightmost)."""
    taken = {_slot(n.position) for n in network.nodes.values() if n.position is not None}
    columns = max((c for c, _ in taken), default=-1) + 2
    row = 0
    while True:
        for column in range(columns):
            if (column, row) not in taken:
                return column * COLUMN, row * ROW
        row += 1


def _slot(position: tuple[float, float]) -> tuple[int, int]:
    return round(position[0] / COLUMN), round(position[1] / ROW)


def _grid(index: int, count: int) -> tuple[float, float]:
    width = max(1, round(count ** 0.5))
    return (index % width) * COLUMN, (index // width) * ROW
