"""The robust client against a real server that misbehaves on purpose (tests/net/faults.py), and a closed port."""
from __future__ import annotations

import socket

import pytest
from conftest import fault_log

from workbench import Engine, Network, Trace
from workbench.core.cards import ModelCard
from workbench.core.messages import Message
from workbench.errors import HostUnreachable, RemoteHTTPError, StepTimeout, StreamBroken
from workbench.net.client import Deadline, HTTPClient, Policy
from workbench.net.remote import OpenAIChat, OpenAIEmbed

pytestmark = pytest.mark.network
FAST = Policy(attempts=3, backoff=0.01, max_retry_after=5.0, idle=0.5, connect=2.0)
CHAT = ModelCard("faulty", "openai", "text", "text", ("text.generate",), host="faults")


def chat(faults, model: str, policy: Policy = FAST, timeout: float = 10.0) -> OpenAIChat:
    return OpenAIChat(CHAT, HTTPClient(faults.url, "faults", policy=policy), model, timeout=timeout, streams=True)


def attempts(faults, model: str) -> list[float]:
    return [seen for name, seen in fault_log(faults) if name == model]


async def collect(model: OpenAIChat, text: str = "hi") -> tuple[list[str], Message | None]:
    pieces, final = [], None
    async for piece in model.stream(Message("text", text)):
        if isinstance(piece, Message):
            final = piece
        else:
            pieces.append(piece)
    return pieces, final


async def test_a_normal_answer_and_stream(faults):
    answer = await chat(faults, "ok").invoke(Message("text", "hi"))
    assert answer.content == "Hello world!" and answer.meta["usage"]["total_tokens"] == 7
    pieces, final = await collect(chat(faults, "ok"))
    assert pieces == ["Hello", " wor", "ld", "!"] and final.content == "Hello world!"


async def test_a_body_that_stalls_after_the_headers_fails_on_the_idle_timer(faults):
    with pytest.raises(StreamBroken, match="stalled: nothing more for 0.5 s after the headers") as caught:
        await chat(faults, "stall#1").invoke(Message("text", "hi"))
    assert caught.value.host == "faults" and len(attempts(faults, "stall#1")) == 1


async def test_the_deadline_covers_everything_when_shorter_than_the_idle_timer(faults):
    patient = Policy(idle=30.0)
    with pytest.raises(StepTimeout, match="within the step's 0.4 s deadline"):
        await chat(faults, "stall#2", patient, timeout=0.4).invoke(Message("text", "hi"))


async def test_an_html_502_becomes_a_short_typed_error_after_the_retries(faults):
    with pytest.raises(RemoteHTTPError) as caught:
        await chat(faults, "html502#1").invoke(Message("text", "hi"))
    error = caught.value
    assert error.status == 502 and error.host == "faults"
    assert error.snippet == "502 Bad Gateway Bad Gateway upstream gone"
    assert "<" not in str(error) and len(str(error)) < 200
    assert str(error) == ("host 'faults': answered 502 Bad Gateway (text/html: 502 Bad Gateway Bad Gateway upstream "
                          "gone) (gave up after 3 attempts)")
    assert len(attempts(faults, "html502#1")) == FAST.attempts


async def test_a_5xx_then_success_is_retried(faults):
    answer = await chat(faults, "html502-once#1").invoke(Message("text", "hi"))
    assert answer.content == "Hello world!" and len(attempts(faults, "html502-once#1")) == 2


async def test_a_dropped_connection_is_retried(faults):
    answer = await chat(faults, "drop-once#1").invoke(Message("text", "hi"))
    assert answer.content == "Hello world!" and len(attempts(faults, "drop-once#1")) == 2


async def test_429_waits_as_retry_after_says(faults):
    client = HTTPClient(faults.url, "faults", policy=FAST)
    answer = await client.json("POST", "chat/completions", {"model": "limit429#1", "retry_after": 1},
                               deadline=Deadline(10))
    assert answer["choices"][0]["message"]["content"] == "Hello world!"
    first, second = attempts(faults, "limit429#1")
    assert second - first >= 0.9  # a lower bound the client must wait, measured by the server


async def test_429_retry_after_is_capped(faults):
    client = HTTPClient(faults.url, "faults", policy=Policy(backoff=0.01, max_retry_after=0.2))
    answer = await client.json("POST", "chat/completions", {"model": "limit429#2", "retry_after": 3600},
                               deadline=Deadline(30))
    assert answer["object"] == "chat.completion" and len(attempts(faults, "limit429#2")) == 2


async def test_429_asking_longer_than_the_deadline_fails_at_once(faults):
    client = HTTPClient(faults.url, "faults", policy=Policy(max_retry_after=60))
    with pytest.raises(RemoteHTTPError, match="answered 429 Too Many Requests \\(slow down\\)") as caught:
        await client.json("POST", "chat/completions", {"model": "limit429#3", "retry_after": 30}, deadline=Deadline(5))
    assert caught.value.status == 429 and len(attempts(faults, "limit429#3")) == 1


async def test_a_4xx_is_not_retried(faults):
    with pytest.raises(RemoteHTTPError, match="answered 400 Bad Request \\(messages: field required\\)") as caught:
        await chat(faults, "bad400#1").invoke(Message("text", "hi"))
    assert caught.value.status == 400 and not caught.value.failover_ok
    assert len(attempts(faults, "bad400#1")) == 1


async def test_a_200_that_is_not_json_is_a_typed_error(faults):
    with pytest.raises(RemoteHTTPError, match="answered 200 with text/html, not JSON: 502 Bad Gateway") as caught:
        await chat(faults, "notjson").invoke(Message("text", "hi"))
    assert caught.value.status == 200


async def test_a_closed_port_is_host_unreachable_after_the_retries():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        client = HTTPClient(f"http://127.0.0.1:{port}/v1", "nowhere", policy=FAST)
        model = OpenAIChat(CHAT, client, "ok", timeout=10)
        with pytest.raises(HostUnreachable, match="host 'nowhere': no answer from .* \\(ConnectError\\) "
                                                  "\\(gave up after 3 attempts\\)") as caught:
            await model.invoke(Message("text", "hi"))
    assert caught.value.reason == "ConnectError" and caught.value.failover_ok


async def test_a_stream_that_breaks_off_keeps_its_partial_text(faults):
    with pytest.raises(StreamBroken, match="the answer broke off \\(RemoteProtocolError") as caught:
        await collect(chat(faults, "broken"))
    assert caught.value.partial == Message("text", "Hello wor", {"incomplete": True})
    assert not caught.value.failover_ok  # text was already given out


async def test_an_error_event_in_a_200_stream_fails_keeping_the_partial_text(faults):
    with pytest.raises(StreamBroken, match="error event in the stream: the upstream model crashed") as caught:
        await collect(chat(faults, "error-event"))
    assert caught.value.partial.content == "Hello wor" and caught.value.partial.meta == {"incomplete": True}


async def test_empty_choices_and_a_usage_only_chunk_are_handled(faults):
    pieces, final = await collect(chat(faults, "empty-choices"))
    assert pieces == ["Hello", " wor", "ld", "!"]
    assert final.content == "Hello world!" and final.meta["finish_reason"] == "stop"
    assert final.meta["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


async def test_an_answer_over_the_size_limit_is_refused(faults):
    with pytest.raises(RemoteHTTPError, match="answered with more than 100 bytes; refused"):
        await chat(faults, "ok", Policy(max_body=100)).invoke(Message("text", "hi"))


async def test_embeddings_from_an_openai_server(faults):
    card = ModelCard("emb", "openai", "text", "vector", ("text.embed",), host="faults")
    model = OpenAIEmbed(card, HTTPClient(faults.url, "faults", policy=FAST), "ok")
    assert (await model.invoke(Message("text", "hi"))).content == [0.6, 0.8]


async def test_in_a_run_the_failed_step_keeps_the_partial_text_marked_incomplete(faults):
    net = Network("faulty")
    net.add(chat(faults, "error-event"), "chat")
    trace = Trace()
    result = await Engine().run(net, Message("text", "hi"), sinks=[trace])
    step = result.steps["chat"]
    assert result.status == "failed" and step.status == "failed"
    assert step.error.startswith("StreamBroken: host 'faults': error event in the stream")
    assert step.output == Message("text", "Hello wor", {"incomplete": True})
    assert [e.output for e in trace if e.type == "step.token"] == ["Hello", " wor"]
