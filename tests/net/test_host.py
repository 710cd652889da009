"""A real host process on 127.0.0.1: cards, invoke, SSE streams, health, errors, token and body limit."""
from __future__ import annotations

import json
import subprocess
import sys

import httpx
import numpy as np
import pytest
from conftest import REPO, host_process

from workbench.core.messages import Message, to_jsonable
from workbench.data.digits import heldout_image
from workbench.errors import ConfigError, RemoteHTTPError
from workbench.net.connected import connect
from workbench.net.remotes import Remote, Remotes
from workbench.net.server import check_bind

pytestmark = pytest.mark.network


def message(kind, content, **meta):
    return {"input": to_jsonable({"kind": kind, "content": content, "meta": meta})}


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event"), json.loads(fields["data"])))
    return events


def test_health_and_cards(host_a):
    health = httpx.get(f"{host_a.url}/health").json()
    assert health["status"] == "ok" and health["name"] == "a" and health["models"] >= 12
    cards = {c["name"]: c for c in httpx.get(f"{host_a.url}/models").json()["models"]}
    assert cards["digits-cnn"]["capabilities"] == ["image.classify.digits"]
    assert cards["digits-cnn"]["device"] == "cpu" and cards["digits-cnn"]["host"] == "a"
    assert cards["reverse-chat"]["streams"] is True and cards["hash-embed"]["output_kind"] == "vector"
    assert httpx.get(f"{host_a.url}/models/slow-chat").json()["description"].startswith("reverse-chat with")
    missing = httpx.get(f"{host_a.url}/models/nope")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "UnknownModel"


def test_invoke_runs_the_real_model(host_a):
    image, label = heldout_image(3)
    answer = httpx.post(f"{host_a.url}/models/digits-logreg/invoke", json=message("image.digits", image)).json()
    from sample_models.digits import load_logreg

    local = load_logreg()
    local.load()
    expected = local.invoke(Message("image.digits", image))
    assert answer["host"] == "a" and answer["output"]["kind"] == "label.probs"
    assert answer["output"]["content"]["label"] == expected.content["label"] == label
    assert np.allclose(answer["output"]["content"]["probs"], expected.content["probs"])


def test_invoke_keeps_non_finite_numbers_and_strings_as_data(host_a):
    payload = message("any", {"x": float("nan"), "code": "__import__('os').system('false')"}, note="inf")
    answer = httpx.post(f"{host_a.url}/models/identity/invoke", json=payload).json()
    assert answer["output"]["content"] == {"x": {"$float": "nan"}, "code": "__import__('os').system('false')"}
    assert answer["output"]["meta"] == {"note": "inf"}


def test_stream_sends_tokens_then_the_end(host_a):
    answer = httpx.post(f"{host_a.url}/models/reverse-chat/stream", json=message("text", "one two three"))
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = sse_events(answer.text)
    assert [e for e, _ in events] == ["token", "token", "token", "end"]
    assert "".join(d["text"] for e, d in events if e == "token") == "three two one"
    assert events[-1][1]["output"]["content"] == "three two one"


def test_a_blocking_generator_streams_from_a_worker_thread(host_a):
    answer = httpx.post(f"{host_a.url}/models/threaded-chat/stream", json=message("text", "x y z"))
    events = sse_events(answer.text)
    assert [e for e, _ in events] == ["token", "token", "token", "end"]
    assert events[-1][1]["output"]["content"] == "z y x"


def test_a_model_failing_mid_stream_sends_an_error_event_in_the_200_stream(host_a):
    answer = httpx.post(f"{host_a.url}/models/broken-chat/stream", json=message("text", "a b c d e"))
    assert answer.status_code == 200
    events = sse_events(answer.text)
    assert [e for e, _ in events] == ["token", "token", "error"]
    assert events[-1][1]["error"]["type"] == "RuntimeError" and "broke after 2 words" in events[-1][1]["error"]["message"]


def test_models_without_stream_answer_the_stream_route_with_the_end_only(host_a):
    events = sse_events(httpx.post(f"{host_a.url}/models/identity/stream", json=message("text", "hi")).text)
    assert events == [("end", {"output": {"kind": "text", "content": "hi", "meta": {}}})]


@pytest.mark.parametrize("body, problem", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"input": {"kind": "text"}}', "expected a message"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
])
def test_malformed_requests_are_400(host_a, body, problem):
    answer = httpx.post(f"{host_a.url}/models/identity/invoke", content=body)
    assert answer.status_code == 400 and problem in answer.json()["error"]["message"]


def test_a_failing_model_is_422_with_its_error(host_a):
    answer = httpx.post(f"{host_a.url}/models/digits-logreg/invoke", json=message("image.digits", [1, 2, 3]))
    assert answer.status_code == 422
    assert answer.json()["error"] == {"type": "ModelError",
                                      "message": "node 'digits-logreg': bad input to digits-logreg: expected one 8×8 image, got shape (3,)"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    with host_process(tmp_path_factory.mktemp("guarded"), "guarded", "--max-body", "2048",
                      token="s3cret-token") as host:
        yield host


@pytest.mark.parametrize("method, path", [("GET", "/health"), ("GET", "/models"), ("GET", "/v1/models"),
                                          ("POST", "/models/identity/invoke"), ("POST", "/v1/chat/completions")])
def test_every_route_needs_the_token(guarded, method, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-token"},
                    {"Authorization": "Bearer s3cret-token-and-more"}):
        answer = httpx.request(method, guarded.url + path, headers=headers, json={})
        assert answer.status_code == 401, headers
        assert answer.json()["error"]["type"] == "Unauthorized"
    good = httpx.request(method, guarded.url + path, headers={"Authorization": "Bearer s3cret-token"},
                         json=message("text", "hi") if path.endswith("invoke") else {})
    assert good.status_code in (200, 400)


def test_bodies_over_the_limit_are_413(guarded):
    auth = {"Authorization": "Bearer s3cret-token"}
    big = json.dumps(message("text", "x" * 4000)).encode()
    answer = httpx.post(f"{guarded.url}/models/identity/invoke", content=big, headers=auth)
    assert answer.status_code == 413 and answer.json()["error"]["type"] == "BodyTooLarge"

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        yield big[:1500]
        yield big[1500:]
    answer = httpx.post(f"{guarded.url}/models/identity/invoke", content=chunks(), headers=auth)
    assert answer.status_code == 413
    small = httpx.post(f"{guarded.url}/models/identity/invoke", json=message("text", "hi"), headers=auth)
    assert small.json()["output"]["content"] == "hi"


def test_binding_beyond_loopback_needs_a_token():
    result = subprocess.run([sys.executable, "-m", "workbench.cli", "host", "--bind", "0.0.0.0", "--port", "0"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 1
    assert "binding '0.0.0.0' exposes this host beyond this machine: give a --token" in result.stderr
    for loopback in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        check_bind(loopback, None)
    for outside in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        with pytest.raises(ConfigError):
            check_bind(outside, None)
        check_bind(outside, "a-token")
    with pytest.raises(ConfigError, match="empty"):
        check_bind("0.0.0.0", " ")


async def test_a_peer_with_a_token(guarded, tmp_path):  # the cards seen with the good token are cached
    good = await connect(Remotes([Remote("g", "peer", guarded.url, token="s3cret-token")], tmp_path / "r.yaml"))
    assert good.hosts()["g"].startswith("healthy")
    assert (await good.create("identity@g").invoke(Message("text", "hi"))).content == "hi"
    bad = await connect(Remotes([Remote("g", "peer", guarded.url, token="guess")], tmp_path / "r.yaml"))
    assert bad.hosts()["g"] == "unreachable (HTTP 401)"
    with pytest.raises(RemoteHTTPError, match="answered 401 Unauthorized \\(a valid token is required"):
        await bad.create("identity@g").invoke(Message("text", "hi"))


def test_peers_add_refuses_a_wrong_token_and_saves_nothing(guarded, tmp_path):
    import os

    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path)}
    add = [sys.executable, "-m", "workbench.cli", "peers", "add", guarded.url, "--name", "lab"]
    wrong = subprocess.run([*add, "--token", "not-it"], capture_output=True, text=True, env=env, timeout=60)
    assert wrong.returncode == 1 and "refused the token" in wrong.stderr and "HTTP 401" in wrong.stderr
    assert not (tmp_path / "remotes.yaml").exists()
    right = subprocess.run([*add, "--token", "s3cret-token"], capture_output=True, text=True, env=env, timeout=60)
    assert right.returncode == 0 and "digits-cnn@lab" in right.stdout
    assert "lab" in (tmp_path / "remotes.yaml").read_text()
