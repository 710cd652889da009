"""The host's OpenAI-compatible facade, used by the official OpenAI client and by the workbench's own backend."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from textmodels import embed

from workbench import Engine, Network, Trace
from workbench.core.messages import Message
from workbench.net.connected import connect
from workbench.net.remotes import Remote, Remotes

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def client(host_a):
    with openai.OpenAI(base_url=f"{host_a.url}/v1", api_key="unused", max_retries=0) as client:
        yield client


def test_models_lists_the_text_models_only(client):
    names = {m.id for m in client.models.list()}
    assert {"reverse-chat", "slow-chat", "broken-chat", "threaded-chat", "hash-embed"} <= names
    assert "digits-cnn" not in names and "vote" not in names


def test_chat_completion(client):
    answer = client.chat.completions.create(model="reverse-chat", messages=[
        {"role": "system", "content": "reverse my words"}, {"role": "user", "content": "one two three"}])
    assert answer.choices[0].message.content == "three two one"
    assert answer.choices[0].finish_reason == "stop" and answer.model == "reverse-chat"
    assert answer.usage.prompt_tokens == 6 and answer.usage.completion_tokens == 3


@pytest.mark.parametrize("model", ["reverse-chat", "threaded-chat"])
def test_chat_completion_stream_with_usage(client, model):
    chunks = list(client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": [{"type": "text", "text": "a b c d"}]}],
        stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "d c b a"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4


def test_embeddings_float_and_base64(client):
    texts = ["the cat sat", "the cat sat", "dogs bark loudly"]
    for encoding in ("float", "base64"):  # the OpenAI client asks for base64 unless told otherwise
        answer = client.embeddings.create(model="hash-embed", input=texts, encoding_format=encoding) \
            if encoding == "float" else client.embeddings.create(model="hash-embed", input=texts)
        vectors = np.array([d.embedding for d in answer.data])
        assert vectors.shape == (3, 32)
        assert np.allclose(vectors[0], embed("the cat sat"), atol=1e-6)
        assert np.allclose(vectors[0], vectors[1]) and not np.allclose(vectors[0], vectors[2])


def test_errors_are_openai_errors(client):
    with pytest.raises(openai.NotFoundError, match="no model named 'gpt-9'"):
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="does not offer text.generate"):
        client.chat.completions.create(model="hash-embed", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="'messages' must be"):
        client.chat.completions.create(model="reverse-chat", messages=[])
    with pytest.raises(openai.BadRequestError, match="does not offer text.embed"):
        client.embeddings.create(model="reverse-chat", input="hi")


def test_a_model_failing_mid_stream_ends_the_stream_with_an_error(client):
    stream = client.chat.completions.create(model="broken-chat", messages=[{"role": "user", "content": "a b c d"}],
                                            stream=True)
    received = []
    with pytest.raises(openai.APIError, match="broke after 2 words"):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "d c"


async def test_the_workbench_openai_backend_uses_a_host_facade(host_a, tmp_path):
    remotes = Remotes([Remote("facade", "openai", f"{host_a.url}/v1", chat=["reverse-chat", "broken-chat"],
                              embed=["hash-embed"])], tmp_path / "remotes.yaml")
    catalog = await connect(remotes)
    assert catalog.get("reverse-chat@facade").card.capabilities == ("text.generate",)
    assert catalog.get("hash-embed@facade").card.output_kind == "vector"
    net = Network("chat", "graph", catalog=catalog)
    net.add("reverse-chat@facade", "chat")
    net.add("broken-chat@facade", "broken")
    net.add("hash-embed@facade", "embed")
    trace, engine = Trace(), Engine()
    result = await engine.run(net, Message("text", "red green blue"), sinks=[trace])
    steps = result.steps
    assert steps["chat"].output.content == "blue green red"
    assert steps["chat"].output.meta["usage"]["completion_tokens"] == 3
    tokens = [e.output for e in trace if e.type == "step.token" and e.step == "chat"]
    assert tokens == ["blue", " green", " red"]
    assert np.allclose(steps["embed"].output.content, embed("red green blue"), atol=1e-6)
    assert steps["broken"].status == "failed" and "StreamBroken" in steps["broken"].error
    assert "broke after 2 words" in steps["broken"].error
    assert steps["broken"].output.content == "blue green" and steps["broken"].output.meta["incomplete"] is True


async def test_discovery_of_an_openai_server_lists_its_models(host_a, tmp_path):
    remotes = Remotes([Remote("facade", "openai", f"{host_a.url}/v1")], tmp_path / "remotes.yaml")
    catalog = await connect(remotes)
    names = {e.name for e in catalog if e.card.host == "facade"}
    assert {"reverse-chat@facade", "hash-embed@facade"} <= names
    assert catalog.get("hash-embed@facade").card.capabilities == ("text.embed",)
    assert (await asyncio.gather(catalog.create("hash-embed@facade").invoke(Message("text", "x"))))[0].kind == "vector"
