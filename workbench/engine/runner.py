"""The engine: runs a network on one input, step by step, and reports every step as events.

Build, validate, compile, run::

    engine = Engine(sinks=[store.write])
    compiled = engine.compile(network)          # validates and loads each node's model once
    result = await compiled.run(message)        # or: async for event in compiled.stream(message)

Every node becomes one asyncio task that first awaits the tasks of the nodes feeding it, so independent
branches overlap and a join runs exactly once, after all its inputs arrived. A failed step is recorded with
its error; the steps it feeds are recorded as skipped; steps already finished are kept.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import threading
import time
import uuid
import warnings
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterable

from workbench.backends.base import WORKER_THREADS, Model
from workbench.backends.progress import Progress, takes_progress
from workbench.core.messages import JOIN_KIND, Message
from workbench.core.network import Network, Node
from workbench.core.protocols import protocol_executor
from workbench.engine.events import DECISION, RUN_END, RUN_START, STEP_END, STEP_START, STEP_TOKEN, Event, Sink
from workbench.errors import ModelError, StepTimeout, WorkbenchError


_DATAFLOW = object()  # _finish's marker: outputs come from the graph's sinks
NOT_ROUTED = "not routed"  # what a node receives on a pathway its feeder did not route to
STEP_ONLY_META = {"route", "decision"}  # meta keys that concern one step's output, not what it feeds


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class RunResult:
    run_id: str
    status: str                                   # ok | failed | cancelled
    output: Any                                   # the sink node's Message, or {node: Message} for several
    error: str | None = None
    steps: dict[str, Event] = field(default_factory=dict)  # the step.end event of each step
    started: float = 0.0
    ended: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Engine:
    """Runs networks. Holds the loaded models, shared by every run, and the sinks every run reports to."""

    def __init__(self, *, sinks: Iterable[Sink] = (), step_timeout: float | None = None, max_workers: int | None = None,
                 on_load: Callable[[str, Progress], None] | None = None):
        self.sinks = list(sinks)
        self.step_timeout = step_timeout
        self.on_load = on_load  # on_load(node_id, progress) while a model loads (see backends/progress.py)
        self.executor = ThreadPoolExecutor(max_workers or WORKER_THREADS, thread_name_prefix="workbench-step")
        self._models: dict[tuple, Model] = {}
        self._load_lock = threading.Lock()
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def compile(self, network: Network) -> "CompiledNetwork":
        """Validate ``network`` and load its models (cached while the network is unchanged)."""
        cached = self._compiled.get(network)
        if cached is not None and cached.version == network.version:
            return cached
        network.validate()
        models = {node.id: self.model_for(node, network) for node in network.nodes.values()}
        compiled = self._compiled[network] = CompiledNetwork(self, network, models)
        return compiled

    def model_for(self, node: Node, network: Network) -> Model:
        """The loaded model of ``node``; one instance per (model, device, params), shared across runs."""
        if node.instance is not None:
            return _loaded(node.instance, node.id, self.on_load)
        key = (node.model, node.device, json.dumps(node.params, sort_keys=True, default=str))
        with self._load_lock:
            if key not in self._models:
                model = _named(node.id, lambda: network.catalog.create(node.model, node.device, node.params, node.id))
                self._models[key] = _loaded(model, node.id, self.on_load)
            return self._models[key]

    def forget(self, models: Iterable[str]) -> None:
        """Drop the loaded instances of these catalog models: the next compile builds them afresh (e.g. the
        models of a remote host whose address or token changed)."""
        names = set(models)
        with self._load_lock:
            for key in [k for k in self._models if k[0] in names]:
                del self._models[key]

    async def run(self, network: Network, input: Any, **options) -> RunResult:
        return await self.compile(network).run(input, **options)

    def stream(self, network: Network, input: Any, **options) -> AsyncIterator[Event]:
        return self.compile(network).stream(input, **options)

    def run_sync(self, network: Network, input: Any, **options) -> RunResult:
        """Run from synchronous code (not from inside a running event loop)."""
        return asyncio.run(self.run(network, input, **options))

    def close(self) -> None:
        """Stop the worker threads (waiting for steps in flight), so none outlives the interpreter."""
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _named(node_id: str, build):
    """Call ``build``; any error becomes a ModelError naming the node."""
    try:
        return build()
    except ModelError as exc:
        if exc.node is None:
            raise type(exc)(str(exc), node_id) from exc
        raise
    except WorkbenchError:
        raise
    except Exception as exc:
        raise ModelError(f"{type(exc).__name__}: {exc}", node_id) from exc


def _loaded(model: Model, node_id: str, on_load=None) -> Model:
    """Load ``model`` once; ``on_load(node_id, progress)`` hears its progress if its ``load`` reports any."""
    if not getattr(model, "_workbench_loaded", False):
        if on_load is not None and takes_progress(model.load):
            _named(node_id, lambda: model.load(progress=lambda p: on_load(node_id, p)))
        else:
            _named(node_id, model.load)
        model._workbench_loaded = True
    return model


class CompiledNetwork:
    """A validated network with its models loaded: ready to run many times."""

    def __init__(self, engine: Engine, network: Network, models: dict[str, Model]):
        self.engine, self.network, self.models = engine, network, models
        self.version = network.version
        self.order = network.run_order()
        self.feeders = {n: network.predecessors(n) for n in self.order}
        self.templates = {(p.source, p.target): p.adapter["template"] for p in network.pathways
                          if p.adapter and "template" in p.adapter}
        self.outputs = network.sinks()
        self.devices = {n: f"{m.card.backend}/{m.device}" for n, m in models.items()}
        self.inline = {n: not (m.is_async or m.blocking) for n, m in models.items()}
        self.fan_out = {n: [] for n in self.order}  # node -> [(target, input slot)]
        for target, feeders in self.feeders.items():
            for slot, source in enumerate(feeders):
                self.fan_out[source].append((target, slot))
        self.executor = protocol_executor(network.protocol)
        self.cache: dict = {}  # per-compiled-network memo for protocols (e.g. a router's member embeddings)
        self._run_data = {"network": network.name, "protocol": network.protocol,
                          "nodes": {n: self.devices[n] for n in self.order},
                          "pathways": [[p.source, p.target] for p in network.pathways]}

    async def run(self, input: Any, *, sinks: Iterable[Sink] = (), run_id: str | None = None,
                  meta: dict | None = None, step_timeout: float | None = None) -> RunResult:
        """Run once on ``input`` (a Message, or a content wrapped as the first model's input kind)."""
        run = _Run(run_id or new_run_id(), [*self.engine.sinks, *sinks],
                   step_timeout if step_timeout is not None else self.engine.step_timeout)
        message = input if isinstance(input, Message) else Message(self._input_kind(), input)
        run.emit(RUN_START, input=message, data={**self._run_data, "meta": dict(meta or {})})
        if self.executor is None:
            return await self._dataflow(run, message)
        from workbench.engine.context import RunContext

        try:
            output = await self.executor(RunContext(self, run, message))
        except asyncio.CancelledError:
            self._finish(run, cancelled=True)
            raise
        except Exception as exc:  # a protocol's own failure ends the run, with every step so far kept
            return self._finish(run, error=f"protocol {self.network.protocol!r} failed: {type(exc).__name__}: {exc}")
        return self._finish(run, output=output)

    async def _dataflow(self, run: "_Run", message: Message) -> RunResult:
        """The drawn graph: every node runs once all its feeders are done; cheap models inline."""
        inbox = {n: [None] * len(f) for n, f in self.feeders.items()}
        waiting = {n: len(f) for n, f in self.feeders.items()}
        ready = deque(n for n in self.order if not self.feeders[n])
        running: dict[asyncio.Future, str] = {}
        try:
            while ready or running:
                while ready:
                    node = ready.popleft()
                    step = self._dataflow_step(run, node, inbox[node] if self.feeders[node] else None, message)
                    if self.inline[node]:
                        self._deliver(node, _finish_inline(step), inbox, waiting, ready)
                    else:
                        running[asyncio.ensure_future(step)] = node
                if running:
                    done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        self._deliver(running.pop(task), task.result(), inbox, waiting, ready)
        except asyncio.CancelledError:
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(running)
            self._finish(run, cancelled=True)
            raise
        return self._finish(run)

    def _deliver(self, node: str, output: Message | None, inbox, waiting, ready) -> None:
        """Hand ``output`` to the nodes ``node`` feeds; a node whose inputs are all in becomes ready.

        An output whose meta has ``route`` (a list of node ids) goes only to those; the others get NOT_ROUTED.
        ``route`` and ``decision`` belong to this step: they are not passed on (else a model that passes its
        input through, like ``identity``, would route and decide again).
        """
        route = output.meta.get("route") if isinstance(output, Message) else None
        if isinstance(output, Message) and STEP_ONLY_META & output.meta.keys():
            output = Message(output.kind, output.content, {k: v for k, v in output.meta.items()
                                                           if k not in STEP_ONLY_META})
        for target, slot in self.fan_out[node]:
            delivered = NOT_ROUTED if route is not None and target not in route else output
            inbox[target][slot] = (node, delivered)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)

    async def stream(self, input: Any, **options) -> AsyncIterator[Event]:
        """Yield the run's events as they happen (``run`` with a queue as a sink)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        task = asyncio.ensure_future(self.run(input, sinks=[queue.put_nowait, *options.pop("sinks", ())], **options))
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()

    def _input_kind(self) -> str:
        return self.network.card(self.order[0]).input_kind

    async def _dataflow_step(self, run: "_Run", node: str, inputs: list | None, run_input: Message) -> Message | None:
        if inputs is not None:
            routed = [(source, m) for source, m in inputs if m is not NOT_ROUTED]
            if not routed:
                run.emit(STEP_END, step=node, node=node, status="skipped", error="not routed here")
                return NOT_ROUTED
            failed = [source for source, m in routed if m is None]
            card = self.models[node].card
            if failed and (not card.tolerates_missing or len(failed) == len(routed)):
                run.emit(STEP_END, step=node, node=node, status="skipped", error=f"no input from {', '.join(failed)}")
                return None
            message = self._input_for(node, [(s, m) for s, m in routed if m is not None], missing=failed)
        else:
            message = run_input
        return await self.call(run, node, message)

    async def call(self, run: "_Run", node: str, message: Message, step: str | None = None) -> Message | None:
        """Invoke ``node`` on ``message`` as one traced step; None if it failed (the trace says why)."""
        model, device = self.models[node], self.devices[node]
        step = step or node
        start = time.time()
        run.emit(STEP_START, step=step, node=node, input=message, device=device, start=start)
        try:
            if model.stream is not None:
                output = await self._stream(run, step, node, model, message)
            else:
                output = await self._invoke(model, message, run.step_timeout)
            if not isinstance(output, Message):
                raise TypeError(f"the model returned {type(output).__name__}, not a Message")
            if not isinstance(output.meta, dict):
                raise TypeError(f"the model returned a Message whose meta is {type(output.meta).__name__}, not a dict")
        except asyncio.CancelledError:
            run.emit(STEP_END, step=step, node=node, status="cancelled", device=device, start=start, end=time.time())
            raise
        except StepTimeout as exc:  # our deadline; a TimeoutError the model raised itself is a failure
            run.emit(STEP_END, step=step, node=node, status="timeout", device=device, start=start, end=time.time(),
                     error=f"StepTimeout: {exc}")
            return None
        except Exception as exc:  # a broken stream keeps its partial output, marked incomplete
            run.emit(STEP_END, step=step, node=node, status="failed", device=device, start=start, end=time.time(),
                     error=f"{type(exc).__name__}: {exc}", output=getattr(exc, "partial", None))
            return None
        if decision := output.meta.get("decision"):
            run.emit(DECISION, step=step, node=node, decision=str(decision))
        run.emit(STEP_END, step=step, node=node, status="ok", output=output, device=device,
                 start=start, end=time.time())
        return output

    def _input_for(self, node: str, inputs: list[tuple[str, Message]], missing: list[str] = ()) -> Message:
        """The step's input: the one message fed to it, or a join message bundling all, in pathway order."""
        messages = [self._adapt(source, node, m) for source, m in inputs]
        if len(messages) == 1 and not self.models[node].card.join:
            return messages[0]
        meta = {"from": [source for source, _ in inputs], **({"missing": list(missing)} if missing else {})}
        return Message(JOIN_KIND, messages, meta)

    def _adapt(self, source: str, target: str, message: Message) -> Message:
        template = self.templates.get((source, target))
        if template is None or not isinstance(message.content, str):
            return message
        return Message(message.kind, template.replace("{text}", message.content), dict(message.meta))

    async def _invoke(self, model: Model, message: Message, timeout: float | None) -> Message:
        if model.is_async:
            call = model.invoke(message)
        elif model.blocking:
            call = asyncio.get_running_loop().run_in_executor(self.engine.executor, model.invoke, message)
        else:
            return model.invoke(message)  # cheap and synchronous: runs inline, no timeout applies
        return await _within(call, timeout)

    async def _stream(self, run: "_Run", step: str, node: str, model: Model, message: Message) -> Message:
        """Run a streaming model, one ``step.token`` event per piece; stop within one piece when cancelled."""
        pieces: list[str] = []
        open_ = [True]  # pieces queued by the thread after the step ended are dropped

        def token(piece: str) -> None:
            if open_[0]:
                pieces.append(piece)
                run.emit(STEP_TOKEN, step=step, node=node, output=piece)

        if inspect.isasyncgenfunction(model.stream):
            async def consume():  # an async generator cannot return: it may yield its final Message last
                async with contextlib.aclosing(model.stream(message)) as stream:
                    async for piece in stream:
                        if isinstance(piece, Message):
                            return piece
                        token(piece)
                return None
            call = consume()
        else:
            call = _pull_in_thread(model.stream(message), token, self.engine.executor)
        try:
            final = await _within(call, run.step_timeout)
        finally:
            open_[0] = False
        return final if isinstance(final, Message) else Message(model.card.output_kind, "".join(pieces))

    def _finish(self, run: "_Run", cancelled: bool = False, output: Any = _DATAFLOW, error: str | None = None) -> RunResult:
        failed = [e for e in run.steps.values() if e.status not in ("ok", "skipped")]
        if output is _DATAFLOW:  # the drawn graph: the sinks' outputs; any failed step fails the run
            ended = {n: e for n, e in run.steps.items() if e.status == "ok"}
            outputs = {n: ended[n].output for n in self.outputs if n in ended}
            output = outputs.get(self.outputs[0]) if len(self.outputs) == 1 else outputs
            if failed and not error:
                error = f"step {failed[0].step!r} {failed[0].status}: {failed[0].error}"
        elif output is None and not error:  # a protocol that produced nothing
            error = f"step {failed[0].step!r} {failed[0].status}: {failed[0].error}" if failed else "no output"
        status = "cancelled" if cancelled else ("failed" if error else "ok")
        end = run.emit(RUN_END, status=status, output=output, error=None if cancelled else error,
                       start=run.started, end=time.time())
        return RunResult(run.id, status, output, end.error, run.steps, run.started, end.end)


async def _within(call, timeout: float | None) -> Any:
    """Await ``call``; past ``timeout`` seconds cancel it and raise StepTimeout. Unlike ``asyncio.wait_for``,
    this tells our deadline apart from a TimeoutError the model raised itself."""
    if not timeout:
        return await call
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return await call
    except TimeoutError:
        if deadline.expired():
            raise StepTimeout(f"no answer within {timeout:g} s") from None
        raise


async def _pull_in_thread(generator, on_piece, executor) -> Any:
    """Drain a blocking generator on a worker thread, handing each piece to ``on_piece`` on the event loop.

    Returns the generator's return value. Cancelling the awaiting task stops the thread before its next piece.
    """
    loop, stop = asyncio.get_running_loop(), threading.Event()

    def drain():
        try:
            while not stop.is_set():
                piece = next(generator)
                loop.call_soon_threadsafe(on_piece, piece)
        except StopIteration as done:
            return done.value
        finally:
            generator.close()
        return None

    try:
        return await loop.run_in_executor(executor, drain)
    except BaseException:
        stop.set()
        raise


def _finish_inline(step) -> Message | None:
    """Drive a step coroutine whose model runs inline: it completes without ever suspending."""
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise RuntimeError("an inline step suspended")  # cannot happen: inline models are synchronous


class _Run:
    """The mutable state of one run: its id, event counter and sinks."""

    def __init__(self, run_id: str, sinks: list[Sink], step_timeout: float | None):
        self.id, self.sinks, self.step_timeout = run_id, sinks, step_timeout
        self.seq = 0
        self.steps: dict[str, Event] = {}
        self.started = time.time()

    def emit(self, kind: str, **fields) -> Event:
        event = Event(kind, self.id, self.seq, time.time(), **fields)
        self.seq += 1
        if kind == STEP_END:
            self.steps[event.step] = event
        for sink in list(self.sinks):
            try:
                sink(event)
            except Exception as exc:  # a broken sink must not take the run down; say so once
                self.sinks.remove(sink)
                warnings.warn(f"trace sink {sink!r} failed and was detached: {type(exc).__name__}: {exc}")
        return event
