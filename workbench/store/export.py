"""Export a run's trace as OpenTelemetry-shaped JSON (OTLP/JSON ``resourceSpans``), for tools that read it.

The run is the root span; each step is a child span with its node, device, status and summaries of its
input and output as attributes; decisions and streamed pieces are span events. Ids are derived from the
run id, so exporting twice gives the same document.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from workbench.core.messages import Message
from workbench.engine.events import DECISION, RUN_END, RUN_START, STEP_END, STEP_START, STEP_TOKEN, Event

_STATUS = {"ok": 1, None: 0}  # OTLP status codes: 0 unset, 1 ok, 2 error


def _id(*parts: str, size: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[: size * 2]


def _nanos(seconds: float | None) -> str:
    return str(int((seconds or 0) * 1e9))


def _attrs(**values: Any) -> list[dict]:
    out = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, Message):
            value = value.summary(200)
        kind = "intValue" if isinstance(value, int) and not isinstance(value, bool) else "stringValue"
        out.append({"key": f"workbench.{key}", "value": {kind: value if kind == "intValue" else str(value)}})
    return out


def to_otel(events: Iterable[Event]) -> dict:
    events = list(events)
    run = events[0].run
    trace_id, root_id = _id(run, size=16), _id(run, "run")
    starts = {e.step: e for e in events if e.type == STEP_START}
    notes: dict[str, list] = {}
    for e in events:
        if e.type in (DECISION, STEP_TOKEN):
            name = "decision" if e.type == DECISION else "token"
            notes.setdefault(e.step, []).append({"timeUnixNano": _nanos(e.time), "name": name,
                                                 "attributes": _attrs(text=e.decision or e.output)})
    spans = []
    begin = next((e for e in events if e.type == RUN_START), events[0])
    end = next((e for e in events if e.type == RUN_END), events[-1])
    spans.append({"traceId": trace_id, "spanId": root_id, "name": f"run {(begin.data or {}).get('network', '')}",
                  "kind": 1, "startTimeUnixNano": _nanos(begin.time), "endTimeUnixNano": _nanos(end.end or end.time),
                  "attributes": _attrs(run=run, protocol=(begin.data or {}).get("protocol"), input=begin.input,
                                       output=end.output),
                  "status": {"code": _STATUS.get(end.status, 2), "message": end.error or ""}})
    for e in events:
        if e.type != STEP_END:
            continue
        start = starts.get(e.step)
        spans.append({"traceId": trace_id, "spanId": _id(run, e.step), "parentSpanId": root_id,
                      "name": f"step {e.step}", "kind": 1,
                      "startTimeUnixNano": _nanos(e.start or (start.time if start else e.time)),
                      "endTimeUnixNano": _nanos(e.end or e.time), "events": notes.get(e.step, []),
                      "attributes": _attrs(node=e.node, device=e.device, status=e.status,
                                           input=start.input if start else None, output=e.output),
                      "status": {"code": _STATUS.get(e.status, 2), "message": e.error or ""}})
    for step, extra in notes.items():  # protocol decisions that belong to no model step
        if step not in starts:
            spans[0].setdefault("events", []).extend(extra)
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
                                                            "value": {"stringValue": "modelnet-workbench"}}]},
                               "scopeSpans": [{"scope": {"name": "workbench"}, "spans": spans}]}]}
