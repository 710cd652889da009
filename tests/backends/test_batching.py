"""Micro-batching: concurrent requests become batches, each caller gets its own result, faults stay contained."""
import asyncio
import threading

import numpy as np
import pytest

from workbench import Engine, Message, Network
from workbench.backends.batching import BatchedArrayModel, MicroBatcher, batched
from workbench.data.digits import heldout_examples
from workbench.errors import ModelError


def squares(seen: list):
    def fn(items):
        seen.append(list(items))
        return [x * x for x in items]
    return fn


async def test_concurrent_requests_share_batches_and_get_their_own_results():
    seen = []
    batcher = MicroBatcher(squares(seen), window=0.05, max_size=64)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(40)))
    assert results == [i * i for i in range(40)]
    assert len(seen) == 1 and sorted(seen[0]) == list(range(40))
    assert (batcher.batches, batcher.items) == (1, 40)


async def test_a_batch_never_exceeds_max_size():
    seen = []
    batcher = MicroBatcher(squares(seen), window=0.05, max_size=8)
    assert await asyncio.gather(*(batcher.submit(i) for i in range(30))) == [i * i for i in range(30)]
    assert max(len(b) for b in seen) <= 8 and sum(len(b) for b in seen) == 30 and len(seen) >= 4


async def test_an_error_reaches_every_request_of_its_batch_and_the_next_batch_works():
    def fn(items):
        if "bad" in items:
            raise ValueError("no good")
        return [s.upper() for s in items]

    batcher = MicroBatcher(fn, window=0.05)
    outcomes = await asyncio.gather(batcher.submit("a"), batcher.submit("bad"), return_exceptions=True)
    assert all(isinstance(o, ValueError) and str(o) == "no good" for o in outcomes)
    assert await batcher.submit("ok") == "OK"


async def test_a_wrong_number_of_results_is_an_error():
    batcher = MicroBatcher(lambda items: [1], window=0.05)
    with pytest.raises(RuntimeError, match="a batch of 2 gave 1 results"):
        await asyncio.gather(batcher.submit(1), batcher.submit(2))


async def test_a_request_cancelled_before_its_batch_is_left_out():
    seen, gate = [], threading.Event()

    def fn(items):
        gate.wait(5)
        seen.append(list(items))
        return items

    batcher = MicroBatcher(fn, window=0)
    first = asyncio.ensure_future(batcher.submit("first"))  # runs at once and blocks on the gate
    await asyncio.sleep(0.05)
    doomed, kept = asyncio.ensure_future(batcher.submit("doomed")), asyncio.ensure_future(batcher.submit("kept"))
    await asyncio.sleep(0.01)
    doomed.cancel()
    gate.set()
    assert await first == "first" and await kept == "kept"
    assert seen == [["first"], ["kept"]]


def test_requests_from_several_threads_and_event_loops_are_served():
    batcher = MicroBatcher(squares([]), window=0.01)
    results = {}

    def worker(n):
        results[n] = asyncio.run(batcher.submit(n))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {n: n * n for n in range(6)}


@pytest.mark.parametrize("kwargs, problem", [({"window": -1}, "window"), ({"window": float("nan")}, "window"),
                                             ({"max_size": 0}, "max batch size"), ({"max_size": 2.5}, "max batch")])
def test_bad_settings_are_refused(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        MicroBatcher(lambda items: items, **kwargs)


def digits_net(name: str, **params) -> Network:
    net = Network("one")
    net.add(name, "clf", device="cpu", params=params)
    return net


@pytest.mark.parametrize("name", ["digits-cnn", "digits-mlp"])
async def test_catalog_digit_classifiers_batch_64_concurrent_runs_and_answer_each(name):
    examples = heldout_examples()[:64]
    compiled = Engine().compile(digits_net(name))
    model = compiled.models["clf"]
    assert isinstance(model, BatchedArrayModel) and model.batcher.max_size == 64
    results = await asyncio.gather(*(compiled.run(m) for m, _ in examples))
    expected = model.predict_batch(np.stack([m.content for m, _ in examples])).argmax(axis=1)
    assert [r.output.content["label"] for r in results] == expected.tolist()
    assert model.batcher.items == 64 and model.batcher.batches < 64 / 4  # most requests shared a batch


async def test_max_batch_1_turns_batching_off():
    model = Engine().compile(digits_net("digits-cnn", max_batch=1)).models["clf"]
    assert not isinstance(model, BatchedArrayModel) and model.blocking


async def test_bad_input_fails_alone_in_a_batch():
    compiled = Engine().compile(digits_net("digits-cnn", batch_window_ms=50.0))
    good, _ = heldout_examples()[0]
    results = await asyncio.gather(compiled.run(good), compiled.run(Message("image.digits", [1, 2, 3])))
    assert results[0].ok and results[0].output.content["label"] == heldout_examples()[0][1]
    assert results[1].status == "failed" and "expected one 8×8 image" in results[1].error


def test_batched_wrapper_is_off_without_a_window():
    from sample_models.digits import load_logreg

    plain = load_logreg()
    assert batched(plain, None, 64) is plain and batched(plain, 2.0, 1) is plain
    with pytest.raises(ModelError):
        plain.encode(Message("text", "x"))
