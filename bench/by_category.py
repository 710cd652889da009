"""Where does a protocol gain or lose? Re-score a saved evaluation from the run store, category by category.

    workbench eval text-together --seeds 0,1,2 --save bench/results/text-together.json
    python bench/by_category.py bench/results/text-together.json

Every run of ``workbench eval`` is stored with its evaluation's batch id and the expected answer
(``meta["batch"]``, ``meta["expected"]``); this reads those runs back, scores each stored output again with the
data set's own rule, and prints accuracy per ``category`` of the expected items (mean over seeds), so the
numbers are the evaluation's own, split up. It also checks that the re-scored totals equal the saved ones.
With several members, a last line counts an example as right when any member alone got it right: the ceiling
of a protocol that picks among their answers perfectly.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

import click

from workbench.config import store_path
from workbench.console import table
from workbench.data import get_dataset
from workbench.errors import WorkbenchError
from workbench.store.sqlite import Store


def outcomes(store: Store, dataset, batch: str) -> dict[int, tuple[str, bool]]:
    """{example index: (category, answered right)} for one evaluation pass, from the stored runs."""
    found = {}
    for record in store.runs(limit=None, batch=batch):
        expected = record.meta["expected"]
        category = expected.get("category", "all") if isinstance(expected, dict) else "all"
        found[record.meta["index"]] = (category, record.status == "ok" and dataset.score(record.output, expected))
    return found


def accuracy(found: dict[int, tuple[str, bool]], categories: list[str]) -> list[float]:
    """Accuracy in each category, then over all examples."""
    per = [[right for category, right in found.values() if category == c] for c in categories]
    return [sum(p) / len(p) for p in per] + [sum(r for _, r in found.values()) / len(found)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", help="the JSON file `workbench eval --save` wrote")
    parser.add_argument("--store", default=str(store_path()), help="the run store (default: %(default)s)")
    args = parser.parse_args()
    try:
        figures = json.loads(open(args.results, encoding="utf-8").read())
        dataset, rows = get_dataset(figures["dataset"]), figures["rows"]
        if not rows or not all(isinstance(r["batch"], str) and r["batch"] and isinstance(r["name"], str)
                               and r["kind"] and isinstance(r["total"], int) for r in rows):
            raise ValueError("its rows need a name, kind, batch and total each")
        figures["network"]
    except (OSError, ValueError, KeyError, TypeError, WorkbenchError) as exc:
        parser.error(f"{args.results}: not a file `workbench eval --save` wrote ({type(exc).__name__}: {exc})")
    if not os.path.exists(args.store):
        parser.error(f"no run store at {args.store} (give --store, or set WORKBENCH_HOME as for the evaluation)")
    try:
        store = Store(args.store)
    except WorkbenchError as exc:
        parser.error(str(exc))
    passes: dict[str, list[dict]] = {}  # variant name -> one outcomes dict per seed
    for row in rows:
        try:
            found = outcomes(store, dataset, row["batch"])
        except (KeyError, TypeError) as exc:  # runs stored by something other than an evaluation
            print(f"{row['name']} (batch {row['batch']}): stored runs without an evaluation's meta ({exc})",
                  file=sys.stderr)
            return 1
        correct = sum(right for _, right in found.values())
        if not found or len(found) != row["total"] or correct != row.get("correct"):
            print(f"{row['name']} (batch {row['batch']}): the store holds {correct} correct of {len(found)}, "
                  f"the file says {row['correct']} of {row['total']}", file=sys.stderr)
            return 1
        passes.setdefault(row["name"], []).append(found)
    categories = sorted({c for runs in passes.values() for found in runs for c, _ in found.values()} - {"all"})
    lines = {name: [statistics.fmean(a) for a in zip(*(accuracy(f, categories) for f in runs))]
             for name, runs in passes.items()}
    members = [passes[r["name"]][0] for r in rows if r["kind"] == "member"]
    if len(members) > 1:  # the ceiling of picking well: an example counts if any member alone got it right
        anyone = {i: (c, any(m[i][1] for m in members)) for i, (c, _) in members[0].items()}
        lines["any member right (oracle)"] = accuracy(anyone, categories)
    print(f"{figures['network']} on {figures['dataset']}: accuracy by category, mean over seeds "
          f"(re-scored from {args.store})\n")
    table_rows = [[name, str(len(passes.get(name, [])) or "-")] + [f"{a * 100:.1f} %" for a in values]
                  for name, values in lines.items()]
    click.echo(table(table_rows, ["name", "seeds", *categories, "all"], right=set(range(1, len(categories) + 3))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
