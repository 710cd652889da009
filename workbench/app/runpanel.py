"""The run panel: protocol, input (a held-out digit shown as an image, the whole held-out set, or text),
run and cancel. While a run goes, its events are gathered and shown every ``flush_interval`` seconds: the
active step lights up on the graph, streamed tokens appear, and the trace grows.
"""
from __future__ import annotations

import asyncio
import html

import panel as pn
import param
from panel.viewable import Viewer

from workbench.app import steps
from workbench.app.graph import GraphView
from workbench.app.theme import html_pane
from workbench.app.pictures import digit_svg
from workbench.core.messages import Message
from workbench.core.protocols import PROTOCOLS, protocol_rules
from workbench.engine.events import STEP_TOKEN
from workbench.engine.runner import Engine, new_run_id
from workbench.errors import WorkbenchError

MODES = {"One digit": "digit", "Whole held-out set": "dataset", "Text": "text"}


class RunPanel(Viewer):
    """Runs the graph's network on the engine; reports events through ``on_start``/``on_events``/``on_done``."""

    graph = param.ClassSelector(class_=GraphView, doc="The canvas: its network is what runs.")
    engine = param.ClassSelector(class_=Engine, doc="The engine (shared by sessions: models load once).")
    running = param.Boolean(default=False, doc="Whether a run of this session is in progress.")
    flush_interval = param.Number(default=0.05, bounds=(0.005, 1), doc="Seconds between two page updates in a run.")
    on_start = param.Callable(default=None, doc="Called with (run id, title) as a single run starts.")
    on_events = param.Callable(default=None, doc="Called with each batch of new events of the live run.")
    on_done = param.Callable(default=None, doc="Called with the RunResult (or None) when a run is over.")

    def __init__(self, **params):
        super().__init__(**params)
        self._task: asyncio.Future | None = None
        self.events: list = []
        self.protocol = pn.widgets.Select(label="Protocol", options=list(PROTOCOLS), sizing_mode="stretch_width")
        self.mode = pn.widgets.RadioButtonGroup(options=MODES, color="light", sizing_mode="stretch_width",
                                                css_classes=["wb-mode"])
        self.digit = pn.widgets.IntSlider(label="Held-out digit", start=0, end=449, value=17,
                                          sizing_mode="stretch_width", css_classes=["wb-digit"])
        self.picture = html_pane("", css_classes=["wb-picture"], margin=(0, 4))
        self.text = pn.widgets.TextAreaInput(label="Text", value="What is the capital of France?", height=80,
                                             sizing_mode="stretch_width", css_classes=["wb-text"])
        self.run_button = pn.widgets.Button(label="▶ Run", color="primary", css_classes=["wb-run"],
                                            sizing_mode="stretch_width")
        self.cancel_button = pn.widgets.Button(label="■ Cancel", disabled=True, css_classes=["wb-cancel"],
                                               sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width")
        self.status = html_pane("", sizing_mode="stretch_width", css_classes=["wb-run-status"])
        self.tokens = html_pane("", sizing_mode="stretch_width", css_classes=["wb-tokens"])
        self.run_button.on_click(self.run)
        self.cancel_button.on_click(lambda _: self.cancel())
        self.protocol.param.watch(self._set_protocol, "value")
        self.digit.param.watch(self._show_digit, "value")
        self.mode.param.watch(self._show_inputs, "value")
        self.param.watch(self._buttons, "running")
        self.sync_network()

    # ---- inputs -------------------------------------------------------------------------------
    def sync_network(self) -> None:
        """Match protocol and input mode to the graph's (new) network."""
        net = self.graph.network
        self.protocol.value = net.protocol
        self.mode.value = "digit" if net.dataset == "digits" or self._input_kind() == "image.digits" else "text"
        self._show_inputs()
        self._show_digit()

    def _input_kind(self) -> str:
        net = self.graph.network
        try:
            return net.card(net.topological_order()[0]).input_kind
        except (WorkbenchError, IndexError):
            return "any"

    def _set_protocol(self, event) -> None:
        net = self.graph.network
        if event.new == net.protocol:
            return
        protocol_rules(event.new)
        net.protocol, net.version = event.new, net.version + 1
        try:
            net.validate()
            self._say(f"protocol set to {event.new}: {PROTOCOLS[event.new].description}")
        except WorkbenchError as exc:
            self._say(f"protocol set to {event.new}; before it can run: {exc}", bad=True)

    def _show_inputs(self, *_):
        mode = self.mode.value
        self.digit.visible = self.picture.visible = mode == "digit"
        self.text.visible = mode == "text"

    def _show_digit(self, *_):
        from workbench.data.digits import heldout_image

        image, label = heldout_image(self.digit.value)
        self.picture.object = (f"<div class='wb-digit-card'>{digit_svg(image, 96)}<div>held-out image "
                               f"<b>#{self.digit.value}</b><br>true label <b>{label}</b></div></div>")

    def _message(self, kind: str):
        from workbench.data.inputs import parse_input

        if self.mode.value == "digit":
            if kind not in ("image.digits", "any"):
                raise WorkbenchError(f"this network takes {kind}, not a digit image: choose Text and type a prompt")
            return parse_input(str(self.digit.value), kind)
        return parse_input(self.text.value, kind)

    # ---- running ------------------------------------------------------------------------------
    async def run(self, _event=None) -> None:
        """Compile (loading models off the event loop), then run one input or the whole held-out set."""
        if self.running:
            return
        net, self.running = self.graph.network, True
        try:
            compiled = await self.compile(net)
            self.graph.show_devices(compiled.devices)
            if self.mode.value == "dataset":
                await self._run_dataset(compiled)
            else:
                await self._run_one(compiled, self._message(net.card(compiled.order[0]).input_kind))
        except WorkbenchError as exc:
            self.graph.reset_statuses()
            self._say(str(exc), bad=True)
        except Exception as exc:  # a bug of ours: say so in the page rather than fail silently
            self.graph.reset_statuses()
            self._say(f"unexpected error, please report it: {type(exc).__name__}: {exc}", bad=True)
            raise
        finally:
            self._task, self.running = None, False

    async def run_input(self, input):
        """Run the network on ``input`` (a Message, or content for the first model) from code, shown live just
        like a run started with the button. Returns the RunResult (None if cancelled); a network that cannot
        run raises its WorkbenchError (and says so in the panel)."""
        if self.running:
            raise WorkbenchError("a run is already in progress here: await it, or cancel it first")
        net, self.running = self.graph.network, True
        try:
            compiled = await self.compile(net)
            self.graph.show_devices(compiled.devices)
            if not isinstance(input, Message):
                input = Message(net.card(compiled.order[0]).input_kind, input)
            return await self._run_one(compiled, input)
        except WorkbenchError as exc:
            self.graph.reset_statuses()
            self._say(str(exc), bad=True)
            raise
        finally:
            self._task, self.running = None, False

    async def compile(self, net):
        """Validate and load models off the event loop; nodes say "loading" only if it takes a while."""
        loading = asyncio.get_running_loop().run_in_executor(None, self.engine.compile, net)
        done, _ = await asyncio.wait([loading], timeout=0.2)
        if not done:
            self.graph.show_statuses({n: "loading" for n in net.nodes})
            self._say("loading models…")
        return await loading

    async def _run_one(self, compiled, message) -> None:
        run_id, buffer = new_run_id(), []
        self.events, self.tokens.object = [], ""
        self._statuses, self._current, self._text = {}, None, {}
        if self.on_start:
            self.on_start(run_id, f"Run {run_id} · {compiled.network.name} · {message.summary(40)}")
        self._say(f"running {run_id}…")
        self._task = asyncio.ensure_future(compiled.run(message, sinks=[buffer.append], run_id=run_id))
        while True:
            done, _ = await asyncio.wait([self._task], timeout=self.flush_interval)
            self._flush(buffer)
            if done:
                break
        result = None if self._task.cancelled() else self._task.result()
        self._report(result)
        return result

    def _flush(self, buffer: list) -> None:
        """Show the events gathered since the last flush: graph statuses, tokens, trace rows."""
        batch = buffer[:]
        del buffer[:len(batch)]
        if not batch:
            if self.on_events:
                self.on_events([])  # lets the trace catch up with steps that ended a while ago
            return
        self.events.extend(batch)
        _, self._current = steps.live_statuses(batch, self._statuses, self._current)
        self.graph.show_statuses(self._statuses)  # the running steps pulse; "current" is for replays
        if any(e.type == STEP_TOKEN for e in batch):
            streamed = steps.tokens(batch, self._text)
            self.tokens.object = "".join(f"<div class='wb-token-step'><b>{html.escape(s)}</b> "
                                         f"<span>{html.escape(t)}</span></div>" for s, t in streamed.items())
        if self.on_events:
            self.on_events(batch)

    def _report(self, result) -> None:
        end = steps.outcome(self.events)
        if end is None:
            self._say("cancelled", bad=True)
        elif end.status == "ok":
            self._say(f"<b>{steps.summary(end.output, 80) or 'done'}</b> · ok in {_ms(end)}", html_ok=True)
        else:
            self._say(f"{end.status}: {end.error or ''}", bad=True)
        if self.on_done:
            self.on_done(result)

    async def _run_dataset(self, compiled) -> None:
        from workbench.data import get_dataset
        from workbench.engine.evaluate import evaluate

        net = compiled.network
        if not net.dataset:
            raise WorkbenchError(f"network {net.name!r} names no data set: pick one digit or type a text")
        dataset = get_dataset(net.dataset)
        examples = dataset.load()
        self.progress.param.update(visible=True, value=0, max=len(examples))
        counter = [0]

        def advance(_result):
            counter[0] += 1
            if counter[0] % 10 == 0 or counter[0] == len(examples):
                self.progress.value = counter[0]
                self._say(f"{counter[0]} of {len(examples)} held-out images…")

        self._task = asyncio.ensure_future(evaluate(compiled, dataset, examples, concurrency=4, on_result=advance))
        try:
            evaluation = await self._task
        except asyncio.CancelledError:
            self._say(f"cancelled after {counter[0]} of {len(examples)} images", bad=True)
            return
        finally:
            self.progress.visible = False
            self.graph.reset_statuses()
        self._say(_scores_html(evaluation), html_ok=True)
        if self.on_done:
            self.on_done(None)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def clear(self) -> None:
        """Forget the last run's results (another network is shown now)."""
        self.status.object, self.tokens.object = "", ""
        self.progress.visible = False

    # ---- view ---------------------------------------------------------------------------------
    def _buttons(self, *_):
        self.run_button.disabled, self.cancel_button.disabled = self.running, not self.running

    def _say(self, text: str, bad: bool = False, html_ok: bool = False) -> None:
        body = text if html_ok else html.escape(text)
        self.status.object = f"<div class='wb-alert {'wb-alert-bad' if bad else 'wb-alert-ok'}'>{body}</div>"

    def __panel__(self):
        return pn.Column(self.protocol, self.mode, self.digit, self.picture, self.text,
                         pn.Row(self.run_button, self.cancel_button, sizing_mode="stretch_width"),
                         self.progress, self.status, self.tokens, sizing_mode="stretch_width")


def _ms(event) -> str:
    from workbench.console import ms

    return ms(event.seconds)


def _scores_html(evaluation) -> str:
    rows = "".join(f"<tr><td>{html.escape(s.node)}</td><td>{html.escape(s.device)}</td>"
                   f"<td class='wb-num'>{s.accuracy * 100:.1f} %</td><td class='wb-num'>{s.correct}/{s.total}</td></tr>"
                   for s in evaluation.scores)
    return (f"<b>{evaluation.runs} runs</b> ({evaluation.failed_runs} failed) in {evaluation.seconds:.1f} s, "
            f"every step stored<table class='wb-scores'><tr><th>node</th><th>device</th><th>accuracy</th>"
            f"<th>correct / answered</th></tr>{rows}</table>")
