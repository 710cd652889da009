"""The ``workbench`` command line: run networks, list models and examples, browse stored runs."""
from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

import click

from workbench.console import dump, fail_cleanly, json_text


def _catalog():
    """The local catalog, joined by the remotes' models when $WORKBENCH_HOME/remotes.yaml names any."""
    from workbench.net.connected import connected_catalog

    return connected_catalog()


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
@fail_cleanly
def run(network, input_text, limit, concurrency, step_timeout, as_json):
    """Run NETWORK (a file, or a shipped example's name) and print its trace.

    With --input, one run with its live trace. Without, if the network names a data set, every example of
    the data set is run and each node's accuracy is printed (`workbench run digits-ensemble`).
    """
    from workbench.console import LoadPrinter
    from workbench.engine.runner import Engine
    from workbench.examples import load_network

    net = load_network(network, _catalog())
    store, loading = _store(), LoadPrinter()
    if input_text is None and not net.dataset:
        raise click.UsageError(f"network {net.name!r} names no data set: give an --input")
    with Engine(sinks=[store.write], step_timeout=step_timeout, on_load=loading) as engine:
        engine.compile(net)  # load every model first, showing progress
        loading.close()
        if input_text is None:
            return _run_dataset(engine, net, limit, concurrency, as_json)
        ok = _run_one(engine, net, input_text, as_json)
    sys.exit(0 if ok else 1)


def _run_one(engine, net, input_text, as_json) -> bool:
    from workbench.console import TracePrinter
    from workbench.data.inputs import parse_input

    compiled = engine.compile(net)
    message = parse_input(input_text, compiled.network.card(compiled.order[0]).input_kind)
    sinks = [] if as_json else [TracePrinter()]
    result = asyncio.run(compiled.run(message, sinks=sinks))
    if as_json:
        dump({"run": result.run_id, "status": result.status, "output": result.output, "error": result.error,
               "steps": [{"step": e.step, "status": e.status, "device": e.device, "seconds": e.seconds,
                          "output": e.output, "error": e.error} for e in result.steps.values()]})
    return result.ok


def _run_dataset(engine, net, limit, concurrency, as_json):
    from workbench.console import table
    from workbench.data import get_dataset
    from workbench.engine.evaluate import check_fits, evaluate

    dataset = get_dataset(net.dataset)
    examples = dataset.load()[:limit]
    check_fits(net, examples, net.dataset)
    compiled = engine.compile(net)
    with click.progressbar(length=len(examples), label=f"{net.name} on {net.dataset}", file=sys.stderr) as bar:
        evaluation = asyncio.run(evaluate(compiled, dataset, examples, concurrency=concurrency,
                                          on_result=lambda _: bar.update(1)))
    rows = [s.to_dict() for s in evaluation.scores]
    failures = _report_failures([(net.name, evaluation.failed_runs, evaluation.runs, evaluation.first_error)])
    if as_json:
        dump({"batch": evaluation.batch, "network": net.name, "dataset": net.dataset, "runs": evaluation.runs,
              "failed_runs": evaluation.failed_runs, "seconds": evaluation.seconds, "rows": rows})
        sys.exit(1 if failures else 0)
    click.echo(f"\n{net.name} on {net.dataset}: {evaluation.runs} runs ({evaluation.failed_runs} failed) "
               f"in {evaluation.seconds:.1f} s, every step stored (batch {evaluation.batch})\n")
    click.echo(table([[r["name"], r["kind"], r["model"], r["device"], f"{r['accuracy'] * 100:.1f} %",
                       f"{r['correct']}/{r['total']}"] for r in rows],
                     ["node", "kind", "model", "device", "accuracy", "correct/answered"], right={4, 5}))
    sys.exit(1 if failures else 0)


def _seed_list(ctx, param, value: str | None) -> list[int] | None:
    if value is None:
        return None
    parts = value.split(",")
    if not all(re.fullmatch(r"0|[1-9][0-9]*", part) for part in parts):
        raise click.BadParameter(f"{value!r}: give whole numbers (no signs or leading zeros) separated by commas, "
                                 "e.g. 0,1,2")
    seeds = [int(part) for part in parts]
    if len(set(seeds)) != len(seeds):
        raise click.BadParameter(f"{value!r}: give different seeds, e.g. 0,1,2")
    if not all(0 <= seed < 2 ** 63 for seed in seeds):  # what torch's and MLX's generators take
        raise click.BadParameter(f"{value!r}: seeds go from 0 to 2**63 - 1")
    return seeds


def _save_path(ctx, param, value: str | None) -> str | None:
    """Check --save before an evaluation that may take an hour, not after it."""
    if value is None:
        return None
    folder = Path(value).expanduser().resolve().parent
    if not value.strip():
        raise click.BadParameter(f"{value!r}: give a file name, e.g. results.json")
    if not folder.is_dir():
        raise click.BadParameter(f"{value!r}: folder {str(folder)!r} does not exist")
    return value


def _report_failures(rows: list[tuple[str, int, int, str | None]]) -> bool:
    """Say on stderr which variants had failed runs, and why; whether any had."""
    for name, failed, total, error in rows:
        if failed:
            click.echo(f"warning: {name}: {failed} of {total} runs failed (scored as wrong); first: {error}",
                       err=True)
    return any(failed for _, failed, _, _ in rows)


@cli.command("eval")
@click.argument("network")
@click.option("--dataset", help="Data set to measure on (default: the one the network names).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N examples.")
@click.option("--threshold", default=0.6, show_default=True, type=click.FloatRange(0, 1),
              help="Confidence threshold of the cascade variant.")
@click.option("--temperature", default=0.7, show_default=True, type=click.FloatRange(0, 5),
              help="Sampling temperature of the generated text protocols (self-consistency, debate, mixture).")
@click.option("--seeds", callback=_seed_list, metavar="0,1,2",
              help="Measure the sampling protocols once per seed and show mean and spread.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@click.option("--save", type=click.Path(dir_okay=False, writable=True), callback=_save_path,
              help="Also write the JSON to this file.")
@fail_cleanly
def eval_(network, dataset, limit, threshold, temperature, seeds, concurrency, as_json, save):
    """Measure NETWORK on a data set: each member alone vs the protocols over the same members.

    Prints accuracy, model calls and cost per example, and time; every run is stored. With --seeds, the
    protocols that sample run once per seed and the table shows mean ± standard deviation over the seeds.
    """
    from workbench.console import table
    from workbench.data import get_dataset
    from workbench.engine.compare import compare, runs_per_variant, summarise
    from workbench.engine.evaluate import check_fits
    from workbench.engine.runner import Engine
    from workbench.examples import load_network

    net = load_network(network).validate()  # a bad option is refused before anything loads
    name = dataset or net.dataset
    if not name:
        raise click.UsageError(f"network {net.name!r} names no data set: give --dataset")
    data = get_dataset(name)
    examples = data.load()[:limit]
    check_fits(net, examples, name)
    total = len(examples) * runs_per_variant(net, threshold, temperature, seeds)
    with Engine(sinks=[_store().write]) as engine, \
            click.progressbar(length=total, label=f"{net.name} on {name}", file=sys.stderr) as bar:
        rows = asyncio.run(compare(engine, net, data, examples, threshold=threshold, temperature=temperature,
                                   seeds=seeds, concurrency=concurrency, on_result=lambda _: bar.update(1)))
    summary = summarise(rows)
    figures = {"network": net.name, "dataset": name, "examples": len(examples), "seeds": seeds,
               "temperature": temperature, "rows": [r.to_dict() for r in rows],
               "summary": [s.to_dict() for s in summary]}
    if save:
        Path(save).write_text(json_text(figures) + "\n", encoding="utf-8")
    failures = _report_failures([(f"{r.name}" + (f" (seed {r.seed})" if r.seed is not None else ""), r.failed,
                                  r.total, r.error) for r in rows])
    if as_json:
        dump(figures)
        sys.exit(1 if failures else 0)
    click.echo(f"\n{net.name} on {name} ({len(examples)} examples); every run stored\n")
    if any(s.seeds > 1 for s in summary):
        click.echo(table([[s.name, s.kind, f"{s.accuracy * 100:.1f} %", f"± {s.spread * 100:.1f}",
                           f"{s.low * 100:.1f}–{s.high * 100:.1f}", str(s.seeds),
                           "" if s.margin is None else f"{s.margin * 100:+.1f}", f"{s.calls:.2f}",
                           f"{s.seconds:.1f} s"] for s in summary],
                         ["name", "kind", "accuracy", "sd", "range", "seeds", "vs best", "calls/ex", "time"],
                         right={2, 3, 4, 5, 6, 7, 8}))
    else:
        click.echo(table([[r.name, r.kind, f"{r.accuracy * 100:.1f} %", f"{r.correct}/{r.total}", f"{r.calls:.2f}",
                           f"{r.cost:.2f}", f"{r.seconds:.1f} s"] for r in rows],
                         ["name", "kind", "accuracy", "correct", "calls/ex", "cost/ex", "time"], right={2, 3, 4, 5, 6}))
    members = [s for s in summary if s.kind == "member"]
    if members:
        best = max(members, key=lambda s: s.accuracy)
        winners = [s for s in summary if s.kind != "member" and s.accuracy > best.accuracy]
        spread = lambda s: f" ± {s.spread * 100:.1f} over {s.seeds} seeds" if s.seeds > 1 else ""  # noqa: E731
        verdict = ("better together: " + "; ".join(f"{s.name} beat the best member ({best.name}) by "
                                                     f"{s.margin * 100:+.1f} points{spread(s)}" for s in winners)
                   if winners else f"no protocol beat the best member ({best.name}) on this data")
        click.echo(f"\n{verdict}")
    sys.exit(1 if failures else 0)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@fail_cleanly
def examples(as_json):
    """List the example networks that ship with the workbench."""
    from workbench.console import table
    from workbench.examples import example_paths, load_network

    nets = [load_network(str(path)) for _, path in sorted(example_paths().items())]
    rows = [{"name": n.name, "protocol": n.protocol, "nodes": len(n.nodes), "pathways": len(n.pathways),
             "dataset": n.dataset, "description": n.description} for n in nets]
    if as_json:
        return dump(rows)
    click.echo(table([[r["name"], r["protocol"], str(r["nodes"]), r["dataset"] or "", r["description"]] for r in rows],
                     ["name", "protocol", "nodes", "dataset", "description"]))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@fail_cleanly
def models(as_json):
    """List the models in the catalog, with backend and device."""
    from workbench.console import table

    rows, catalog = [], _catalog()
    health = catalog.hosts() if hasattr(catalog, "hosts") else {}
    for entry in catalog:
        missing = entry.missing()
        down = "unreachable" in health.get(entry.card.host, "")
        rows.append({"name": entry.name, "host": entry.card.host + (" (unreachable)" if down else ""),
                     "backend": entry.card.backend,
                     "device": _device_of(entry, missing),
                     "input": entry.card.input_kind, "output": entry.card.output_kind,
                     "capabilities": list(entry.card.capabilities), "available": not missing,
                     "install": entry.install_hint(missing) if missing else None,
                     "description": entry.card.description})
    if as_json:
        return dump(rows)
    click.echo(table([[r["name"], r["host"], r["backend"], r["device"], ", ".join(r["capabilities"]),
                       r["description"] if r["available"] else f"unavailable: {r['install']}"] for r in rows],
                     ["model", "host", "backend", "device", "capabilities", "description"]))


def _device_of(entry, missing) -> str:
    """The device ``auto`` resolves to for this backend here (importing the backend, which is installed)."""
    if missing or entry.card.device != "auto":
        return entry.card.device if not missing else "-"
    from importlib import import_module

    return import_module(f"workbench.backends.{entry.card.backend}").pick_device("auto")


@cli.group()
def runs():
    """Browse stored runs: list, show, replay, export."""


@runs.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--network", help="Only runs of this network.")
@click.option("--status", type=click.Choice(["running", "ok", "failed", "cancelled", "interrupted"]))
@click.option("--batch", help="Only the runs of one evaluation (its batch id, as `workbench eval --json` gives).")
@click.option("--json", "as_json", is_flag=True)
@fail_cleanly
def runs_list(limit, network, status, batch, as_json):
    """List the latest runs, newest first."""
    from workbench.console import summary, table, when

    if batch is not None and not batch.strip():
        raise click.BadParameter("give a batch id (`workbench eval --json` shows each row's)", param_hint="--batch")
    records = _store().runs(limit=limit, network=network, status=status, batch=batch)
    if as_json:
        return dump([r.to_dict() for r in records])
    if not records:
        if network or status or batch:
            return click.echo("no stored run matches these filters")
        return click.echo("no runs stored yet; try: workbench run digits-ensemble")
    click.echo(table([[r.id, when(r.started), r.network, r.status, str(r.steps), summary(r.input, 24),
                       summary(r.output, 24)] for r in records],
                     ["run", "started", "network", "status", "steps", "input", "output"], right={4}))


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
@fail_cleanly
def runs_show(run_id, as_json):
    """Show one run (an id or its unique prefix) step by step."""
    from workbench.console import ms, summary, table, when
    from workbench.engine.events import DECISION, STEP_END, STEP_START

    store = _store()
    record, events = store.run(run_id), store.events(run_id)
    steps = [e for e in events if e.type in (STEP_END, DECISION)]
    inputs = {e.step: e.input for e in events if e.type == STEP_START}
    if as_json:
        return dump({"run": record.to_dict(), "events": [e.to_dict() for e in events]})
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
@fail_cleanly
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


@runs.command("export")
@click.argument("run_id")
@click.option("--format", "fmt", type=click.Choice(["otel", "events"]), default="otel", show_default=True,
              help="otel: OpenTelemetry-shaped JSON spans; events: the raw events as a JSON list.")
@fail_cleanly
def runs_export(run_id, fmt):
    """Export a stored run's trace as JSON (to stdout)."""
    from workbench.store.export import to_otel

    events = _store().events(run_id)
    dump(to_otel(events) if fmt == "otel" else [e.to_dict() for e in events])


# Commands of the other layers; each module imports its heavy libraries only when its command runs.
from workbench.app.cli import up  # noqa: E402  (the app)
from workbench.net.cli import register as _register_net  # noqa: E402  (host, peers, remote, capabilities)

cli.add_command(up)
_register_net(cli)


def main() -> None:
    cli(prog_name="workbench")


if __name__ == "__main__":
    main()
