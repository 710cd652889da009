"""The ``workbench`` command line: run networks, list models and examples, browse stored runs."""
from __future__ import annotations

import asyncio
import functools
import json
import sys
import time

import click

from workbench.errors import WorkbenchError


def _fail_cleanly(command):
    """Print the workbench's own errors as one line and exit 1, instead of a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except WorkbenchError as exc:
            raise click.ClickException(str(exc)) from exc
    return wrapper


def _dump(data) -> None:
    from workbench.core.messages import to_jsonable

    click.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2, allow_nan=False))


def _store():
    from workbench.config import store_path
    from workbench.store.sqlite import Store

    return Store(store_path())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modelnet-workbench")
def cli():
    """ModelNet Workbench: networks of AI models, traced step by step.

    Data (the run store) lives in $WORKBENCH_HOME, by default a per-user folder.
    """


@cli.command()
@click.argument("network")
@click.option("--input", "input_text", help="The input: text, or for digit networks a held-out index (0–449).")
@click.option("--limit", type=click.IntRange(min=1), help="Without --input: run only the first N examples.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Without --input: runs in flight at once.")
@click.option("--timeout", "step_timeout", type=click.FloatRange(min=0, min_open=True), help="Per-step timeout, seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of the live trace.")
@_fail_cleanly
def run(network, input_text, limit, concurrency, step_timeout, as_json):
    """Run NETWORK (a file, or a shipped example's name) and print its trace.

    With --input, one run with its live trace. Without, if the network names a data set, every example of
    the data set is run and each node's accuracy is printed (`workbench run digits-ensemble`).
    """
    from workbench.console import LoadPrinter, TracePrinter
    from workbench.engine.runner import Engine
    from workbench.examples import load_network

    net = load_network(network)
    store, loading = _store(), LoadPrinter()
    engine = Engine(sinks=[store.write], step_timeout=step_timeout, on_load=loading)
    if input_text is None and not net.dataset:
        raise click.UsageError(f"network {net.name!r} names no data set: give an --input")
    engine.compile(net)  # load every model first, showing progress
    loading.close()
    if input_text is None:
        return _run_dataset(engine, net, limit, concurrency, as_json)
    from workbench.data.inputs import parse_input

    compiled = engine.compile(net)
    message = parse_input(input_text, compiled.network.card(compiled.order[0]).input_kind)
    sinks = [] if as_json else [TracePrinter()]
    result = asyncio.run(compiled.run(message, sinks=sinks))
    if as_json:
        _dump({"run": result.run_id, "status": result.status, "output": result.output, "error": result.error,
               "steps": [{"step": e.step, "status": e.status, "device": e.device, "seconds": e.seconds,
                          "output": e.output, "error": e.error} for e in result.steps.values()]})
    sys.exit(0 if result.ok else 1)


def _run_dataset(engine, net, limit, concurrency, as_json):
    from workbench.console import table
    from workbench.data import load_dataset
    from workbench.engine.evaluate import evaluate

    examples = load_dataset(net.dataset)[:limit]
    compiled = engine.compile(net)
    with click.progressbar(length=len(examples), label=f"{net.name} on {net.dataset}", file=sys.stderr) as bar:
        evaluation = asyncio.run(evaluate(compiled, examples, concurrency=concurrency,
                                          on_result=lambda _: bar.update(1)))
    rows = [s.to_dict() for s in evaluation.scores]
    if as_json:
        return _dump({"batch": evaluation.batch, "network": net.name, "dataset": net.dataset, "runs": evaluation.runs,
                      "failed_runs": evaluation.failed_runs, "seconds": evaluation.seconds, "rows": rows})
    click.echo(f"\n{net.name} on {net.dataset}: {evaluation.runs} runs ({evaluation.failed_runs} failed) "
               f"in {evaluation.seconds:.1f} s, every step stored (batch {evaluation.batch})\n")
    click.echo(table([[r["name"], r["kind"], r["model"], r["device"], f"{r['accuracy'] * 100:.1f} %",
                       f"{r['correct']}/{r['total']}"] for r in rows],
                     ["node", "kind", "model", "device", "accuracy", "correct"], right={4, 5}))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@_fail_cleanly
def examples(as_json):
    """List the example networks that ship with the workbench."""
    from workbench.console import table
    from workbench.examples import example_paths, load_network

    nets = [load_network(str(path)) for _, path in sorted(example_paths().items())]
    rows = [{"name": n.name, "protocol": n.protocol, "nodes": len(n.nodes), "pathways": len(n.pathways),
             "dataset": n.dataset, "description": n.description} for n in nets]
    if as_json:
        return _dump(rows)
    click.echo(table([[r["name"], r["protocol"], str(r["nodes"]), r["dataset"] or "", r["description"]] for r in rows],
                     ["name", "protocol", "nodes", "dataset", "description"]))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@_fail_cleanly
def models(as_json):
    """List the models in the catalog, with backend and device."""
    from workbench.console import table
    from workbench.core.catalog import default_catalog

    rows = []
    for entry in default_catalog():
        missing = entry.missing()
        rows.append({"name": entry.name, "backend": entry.card.backend, "device": _device_of(entry, missing),
                     "input": entry.card.input_kind, "output": entry.card.output_kind,
                     "capabilities": list(entry.card.capabilities), "available": not missing,
                     "install": entry.install_hint(missing) if missing else None,
                     "description": entry.card.description})
    if as_json:
        return _dump(rows)
    click.echo(table([[r["name"], r["backend"], r["device"], ", ".join(r["capabilities"]),
                       r["description"] if r["available"] else f"unavailable: {r['install']}"] for r in rows],
                     ["model", "backend", "device", "capabilities", "description"]))


def _device_of(entry, missing) -> str:
    """The device ``auto`` resolves to for this backend here (importing the backend, which is installed)."""
    if missing or entry.card.device != "auto":
        return entry.card.device if not missing else "-"
    from importlib import import_module

    return import_module(f"workbench.backends.{entry.card.backend}").pick_device("auto")


@cli.group()
def runs():
    """Browse stored runs: list, show, replay."""


@runs.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--network", help="Only runs of this network.")
@click.option("--status", type=click.Choice(["running", "ok", "failed", "cancelled", "interrupted"]))
@click.option("--json", "as_json", is_flag=True)
@_fail_cleanly
def runs_list(limit, network, status, as_json):
    """List the latest runs, newest first."""
    from workbench.console import summary, table, when

    records = _store().runs(limit=limit, network=network, status=status)
    if as_json:
        return _dump([r.to_dict() for r in records])
    if not records:
        return click.echo("no runs stored yet; try: workbench run digits-ensemble")
    click.echo(table([[r.id, when(r.started), r.network, r.status, str(r.steps), summary(r.input, 24),
                       summary(r.output, 24)] for r in records],
                     ["run", "started", "network", "status", "steps", "input", "output"], right={4}))


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
@_fail_cleanly
def runs_show(run_id, as_json):
    """Show one run (an id or its unique prefix) step by step."""
    from workbench.console import ms, summary, table, when
    from workbench.engine.events import DECISION, STEP_END, STEP_START

    store = _store()
    record, events = store.run(run_id), store.events(run_id)
    steps = [e for e in events if e.type in (STEP_END, DECISION)]
    inputs = {e.step: e.input for e in events if e.type == STEP_START}
    if as_json:
        return _dump({"run": record.to_dict(), "events": [e.to_dict() for e in events]})
    click.echo(f"run {record.id}  {record.network} · {record.protocol} · {record.status}  started {when(record.started)}"
               + (f"  ({ms(record.ended - record.started)})" if record.ended else ""))
    click.echo(f"input: {summary(record.input, 80)}\n")
    click.echo(table([[e.step, e.status or "decision", e.device or "", ms(e.seconds), summary(inputs.get(e.step), 28),
                       e.decision or (summary(e.output, 40) if e.status == "ok" else e.error or "")] for e in steps],
                     ["step", "status", "device", "time", "input", "output / decision / error"]))
    click.echo(f"\nresult: {summary(record.output, 80) or '-'}" + (f"\nerror: {record.error}" if record.error else ""))


@runs.command("replay")
@click.argument("run_id")
@click.option("--speed", type=click.FloatRange(min=0), default=0.0,
              help="Replay at this multiple of the original pace (0: all at once).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event (JSON Lines).")
@_fail_cleanly
def runs_replay(run_id, speed, as_json):
    """Replay a stored run: the same events, in the same order."""
    from workbench.console import TracePrinter
    from workbench.core.messages import to_jsonable

    printer, previous = TracePrinter(), None
    for event in _store().replay(run_id):
        if speed and previous is not None:
            time.sleep(max(0.0, event.time - previous) / speed)
        previous = event.time
        if as_json:
            click.echo(json.dumps(to_jsonable(event.to_dict()), ensure_ascii=False, allow_nan=False))
        else:
            printer(event)


def main() -> None:
    cli(prog_name="workbench")


if __name__ == "__main__":
    main()
