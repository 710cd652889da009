"""Where does a protocol gain or lose? Re-score a saved evaluation from the run store, category by category.

    workbench eval text-together --seeds 0,1,2 --save bench/results/text-together.json
    python bench/by_category.py bench/results/text-together.json

Every run of ``workbench eval`` is stored with its evaluation's batch id and the expected answer
(``meta["batch"]``, ``meta["expected"]``); this reads those runs back, scores each stored output again with the
data set's own rule, and prints accuracy per ``category`` of the expected items (mean over seeds), so the
numbers are the evaluation's own, split up. It also checks that the re-scored totals equal the saved ones.
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
from workbench.store.sqlite import Store


def by_category(store: Store, dataset, batch: str) -> tuple[dict[str, list[int]], int]:
    """{category: [correct, total]} for one evaluation pass, and its correct answers in all."""
    counts: dict[str, list[int]] = {}
    for record in store.runs(limit=None, batch=batch):
        expected = record.meta["expected"]
        right = record.status == "ok" and dataset.score(record.output, expected)
        category = expected.get("category", "all") if isinstance(expected, dict) else "all"
        tally = counts.setdefault(category, [0, 0])
        tally[0] += right
        tally[1] += 1
    return counts, sum(c for c, _ in counts.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", help="the JSON file `workbench eval --save` wrote")
    parser.add_argument("--store", default=str(store_path()), help="the run store (default: %(default)s)")
    args = parser.parse_args()
    try:
        figures = json.loads(open(args.results, encoding="utf-8").read())
        dataset, rows = get_dataset(figures["dataset"]), figures["rows"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        parser.error(f"{args.results}: not a file `workbench eval --save` wrote ({type(exc).__name__}: {exc})")
    if not os.path.exists(args.store):
        parser.error(f"no run store at {args.store} (give --store, or set WORKBENCH_HOME as for the evaluation)")
    store = Store(args.store)
    per_variant: dict[str, list[dict[str, float]]] = {}
    categories: list[str] = []
    for row in rows:
        counts, correct = by_category(store, dataset, row["batch"])
        if sum(t for _, t in counts.values()) != row["total"] or correct != row["correct"]:
            print(f"{row['name']} (batch {row['batch']}): the store holds {correct} correct of "
                  f"{sum(t for _, t in counts.values())}, the file says {row['correct']} of {row['total']}",
                  file=sys.stderr)
            return 1
        categories = categories or sorted(counts)
        per_variant.setdefault(row["name"], []).append({k: c / t for k, (c, t) in counts.items()})
    print(f"{figures['network']} on {figures['dataset']}: accuracy by category, mean over seeds "
          f"(re-scored from {args.store})\n")
    rows = [[name, str(len(runs))] + [f"{statistics.fmean(r[k] for r in runs) * 100:.1f} %" for k in categories]
            for name, runs in per_variant.items()]
    click.echo(table(rows, ["name", "seeds", *categories], right=set(range(1, len(categories) + 2))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
