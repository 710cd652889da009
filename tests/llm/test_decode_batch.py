"""Continuous batching of torch generations: the same answers as one at a time, in fewer forward passes."""
import threading
import time

import pytest

from workbench.backends.chat import Sampling
from workbench.backends.decode_batch import DecodeBatcher
from workbench.core.messages import Message
from workbench.errors import ModelError

PROMPTS = ["What is the capital of France?", "What is 15 plus 27?", "Name a colour of the sky.",
           "Is a whale a fish? Answer yes or no.", "How many legs does a spider have?", "Spell the word cat."]


@pytest.fixture
def batcher(torch_chat):
    """A batcher of its own over the shared network, so its counters see only this test's work."""
    weights = torch_chat.weights
    made = DecodeBatcher(weights.network, "cpu", stop_ids=weights.stop_ids)
    yield made
    made.close()


def generate(batcher, torch_chat, prompt, limit=16, sampling=None, delay=0.0):
    time.sleep(delay)
    ids = torch_chat.prompt_ids(Message("text", prompt))
    return torch_chat.weights.tokenizer.decode(list(batcher.tokens(ids, limit, sampling)), skip_special_tokens=True)


def together(batcher, torch_chat, jobs):
    """Run ``jobs`` (kwargs of :func:`generate`) on threads at once; their texts, in order."""
    out = [None] * len(jobs)

    def one(i):
        out[i] = generate(batcher, torch_chat, **jobs[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def test_concurrent_generations_match_generating_alone_and_share_forward_passes(batcher, torch_chat):
    alone = [generate(batcher, torch_chat, p) for p in PROMPTS]
    steps_alone = batcher.steps
    # staggered starts: later prompts join a batch already decoding (their prefill is merged into its cache)
    jobs = [{"prompt": p, "delay": 0.15 * i} for i, p in enumerate(PROMPTS)]
    assert together(batcher, torch_chat, jobs) == alone
    assert len(set(alone)) == len(alone) and "Paris" in alone[0]
    steps_together = batcher.steps - steps_alone
    assert steps_together < 0.6 * steps_alone  # rows advanced together, not one after another
    assert batcher.rows_stepped / batcher.steps > 1.2


def test_a_sampled_row_draws_the_same_answer_in_a_batch_as_alone(batcher, torch_chat):
    hot = Sampling(temperature=1.0, seed=7)
    alone = generate(batcher, torch_chat, PROMPTS[2], limit=20, sampling=hot)
    jobs = [{"prompt": PROMPTS[2], "limit": 20, "sampling": hot}] + [{"prompt": p} for p in PROMPTS[:3]] \
        + [{"prompt": PROMPTS[2], "limit": 20, "sampling": Sampling(1.0, 8)}]
    texts = together(batcher, torch_chat, jobs)
    assert texts[0] == alone
    assert texts[-1] != alone  # another seed, another draw


def test_a_caller_that_stops_reading_leaves_the_batch_and_the_others_finish(batcher, torch_chat):
    ids = torch_chat.prompt_ids(Message("text", "Tell me a long story about a dragon."))
    long = batcher.tokens(ids, 200)
    first = [next(long) for _ in range(3)]
    other = [None]
    thread = threading.Thread(target=lambda: other.__setitem__(0, generate(batcher, torch_chat, PROMPTS[0])))
    thread.start()
    long.close()  # as the engine does when a step is cancelled
    thread.join(timeout=60)
    rows_at_close = batcher.rows_stepped
    assert len(first) == 3 and "Paris" in other[0]
    assert batcher.steps < 40  # the story stopped: 200 tokens would have taken 200 steps
    time.sleep(0.3)
    assert batcher.rows_stepped == rows_at_close  # nothing left running


def test_a_prompt_outside_the_vocabulary_is_refused_alone(batcher, torch_chat):
    with pytest.raises(ValueError, match="token ids"):
        next(batcher.tokens([1, 10**9], 4))
    assert "Paris" in generate(batcher, torch_chat, PROMPTS[0])


def test_the_chat_model_turns_a_refused_prompt_into_a_model_error(torch_chat, monkeypatch):
    monkeypatch.setattr(torch_chat, "prompt_ids", lambda message: [-5])
    with pytest.raises(ModelError, match="generation failed"):
        torch_chat.generate("hello")
