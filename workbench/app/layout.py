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
    """Column = longest path from a source; row = order of arrival in that column. A deep network is folded
    into bands of columns, one under the other, so that the picture stays roughly as wide as it is tall."""
    try:
        order = network.topological_order()
    except NetworkError:  # a cycle: fall back to a plain grid
        return {n: _grid(i, len(network.nodes)) for i, n in enumerate(network.nodes)}
    depth: dict[str, int] = {}
    for node in order:
        depth[node] = max((depth[p] + 1 for p in network.predecessors(node)), default=0)
    width = max(6, round(len(order) ** 0.5))           # columns per band
    slots: dict[str, tuple[int, int, int]] = {}         # node -> (band, column, row in band)
    rows: dict[tuple[int, int], int] = {}
    for node in order:
        band, column = divmod(depth[node], width)
        slots[node] = (band, column, rows.get((band, column), 0))
        rows[(band, column)] = rows.get((band, column), 0) + 1
    top, tops = 0, {}
    for band in sorted({b for b, _ in rows}):
        tops[band] = top
        top += max(r for (b, _), r in rows.items() if b == band) + 1  # a free row between bands
    return {node: (column * COLUMN, (tops[band] + row) * ROW) for node, (band, column, row) in slots.items()}


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
