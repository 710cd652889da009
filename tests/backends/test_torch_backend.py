"""The torch backend with real modules: device picking, loading, running, and errors as ModelError."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from workbench.backends.arrays import WeightsFile  # noqa: E402
from workbench.backends.torch import TorchModel, available_devices, pick_device  # noqa: E402
from workbench.core.cards import ModelCard  # noqa: E402
from workbench.core.messages import Message  # noqa: E402
from workbench.errors import DeviceUnavailable, ModelError  # noqa: E402

CARD = ModelCard("linear", "torch", device="auto")


def linear(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Linear(3, 2)


def test_auto_picks_the_best_device_here():
    expected = "cuda:0" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert pick_device("auto") == expected
    assert pick_device("cpu") == "cpu"
    assert "cpu" in available_devices()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_missing_cuda_is_device_unavailable_naming_the_node(device):
    with pytest.raises(DeviceUnavailable, match=r"node 'classifier'.*not on this machine.*available: cpu") as info:
        pick_device(device, node="classifier")
    assert info.value.node == "classifier"


@pytest.mark.parametrize("device", ["gpu", "cuda0", "tpu", ""])
def test_unknown_device_is_a_clear_error(device):
    with pytest.raises(ModelError, match="unknown torch device"):
        pick_device(device, node="n")


def test_card_records_the_resolved_device_and_model_runs():
    model = TorchModel(linear(), CARD)
    assert model.card.device == pick_device("auto") and model.blocking
    model.load()
    assert not model.module.training
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    out = model.invoke(Message("vector", x))
    expected = linear()(torch.from_numpy(x)).detach().numpy()
    assert isinstance(out.content, np.ndarray)
    np.testing.assert_allclose(out.content, expected, rtol=1e-6)


def test_invoke_runs_under_inference_mode():
    seen = []
    module = torch.nn.Sequential(linear(), torch.nn.Identity())
    module.register_forward_hook(lambda *_: seen.append(torch.is_inference_mode_enabled()))
    model = TorchModel(module, CARD, device="cpu")
    model.load()
    model.invoke(Message("vector", [1.0, 2.0, 3.0]))
    assert seen == [True]


def test_torch_error_on_invoke_is_a_model_error():
    model = TorchModel(linear(), CARD, device="cpu", node="lin")
    model.load()
    with pytest.raises(ModelError, match=r"node 'lin': linear: run failed: RuntimeError") as info:
        model.invoke(Message("vector", [1.0, 2.0, 3.0, 4.0]))  # 4 inputs into a 3-input layer
    assert isinstance(info.value.__cause__, RuntimeError)


def test_weights_that_do_not_fit_are_a_model_error_naming_the_file(tmp_path):
    path = tmp_path / "linear.v1.npz"
    np.savez(path, weight=np.zeros((5, 5), np.float32), bias=np.zeros(2, np.float32))
    model = TorchModel(linear(), CARD, device="cpu", weights=WeightsFile(path, "retrain it"))
    with pytest.raises(ModelError, match=r"load failed \(weights file .*linear.v1.npz; retrain it\): RuntimeError"):
        model.load()


def test_weights_round_trip(tmp_path):
    path = tmp_path / "linear.v1.npz"
    np.savez(path, **{k: v.detach().numpy() for k, v in linear(seed=7).state_dict().items()})
    model = TorchModel(linear(seed=0), CARD, device="cpu", weights=WeightsFile(path))
    model.load()
    x = np.ones(3, np.float32)
    expected = linear(seed=7)(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-6)
