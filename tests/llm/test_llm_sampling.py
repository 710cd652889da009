"""Sampling on request (self-consistency asks with meta temperature and seed); greedy otherwise."""
import pytest

from workbench.core.messages import Message


@pytest.mark.slow
@pytest.mark.parametrize("chat", ["torch_chat", "mlx_chat"])
def test_sampling_is_seeded_and_greedy_stays_the_default(chat, request):
    model = request.getfixturevalue(chat)

    def answer(**meta):
        return model.invoke(Message("text", "Name a colour.", meta)).content

    greedy = answer()
    assert answer() == greedy and answer(temperature=0, seed=5) == greedy  # no temperature: greedy
    first = answer(temperature=1.2, seed=1)
    assert answer(temperature=1.2, seed=1) == first  # the same seed: the same sample
    samples = {answer(temperature=1.2, seed=s) for s in range(2, 8)} | {first}
    assert len(samples) > 1  # different seeds explore
