"""The MLX backend with real modules: device picking, worker threads, and errors as ModelError."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

mx = pytest.importorskip("mlx.core")

from mlx import nn  # noqa: E402
from mlx.utils import tree_flatten  # noqa: E402

from workbench.backends.arrays import WeightsFile  # noqa: E402
from workbench.backends.mlx import MLXModel, available_devices, pick_device  # noqa: E402
from workbench.core.cards import ModelCard  # noqa: E402
from workbench.core.messages import Message  # noqa: E402
from workbench.errors import DeviceUnavailable, ModelError  # noqa: E402

CARD = ModelCard("linear", "mlx", device="auto")
HAS_GPU = mx.is_available(mx.gpu)


def linear(seed: int = 0) -> nn.Module:
    mx.random.seed(seed)
    return nn.Linear(3, 2)


def expected(x: np.ndarray, seed: int = 0) -> np.ndarray:
    weights = dict(tree_flatten(linear(seed).parameters()))
    return x @ np.array(weights["weight"]).T + np.array(weights["bias"])


def test_auto_picks_the_gpu_only_when_there_is_one():
    assert pick_device("auto") == ("gpu" if HAS_GPU else "cpu")
    assert pick_device("cpu") == "cpu"
    assert available_devices()[0] == "cpu"


@pytest.mark.skipif(HAS_GPU, reason="this machine has an MLX GPU")
def test_missing_gpu_is_device_unavailable_naming_the_node():
    with pytest.raises(DeviceUnavailable, match=r"node 'mlp'.*'gpu' is not on this machine.*available: cpu"):
        pick_device("gpu", node="mlp")


@pytest.mark.parametrize("device", ["cuda", "mps", "GPU", ""])
def test_unknown_device_is_a_clear_error(device):
    with pytest.raises(ModelError, match="unknown MLX device"):
        pick_device(device)


def test_card_records_the_resolved_device_and_model_runs():
    model = MLXModel(linear(), CARD)
    assert model.card.device == pick_device("auto") and model.blocking
    model.load()
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    out = model.invoke(Message("vector", x))
    assert isinstance(out.content, np.ndarray) and out.content.shape == (1, 2)
    np.testing.assert_allclose(out.content, expected(x), rtol=1e-5)


def test_invoke_from_worker_threads():
    model = MLXModel(linear(), CARD)
    with ThreadPoolExecutor(1) as loader:
        loader.submit(model.load).result()  # load in one thread ...
    xs = [np.full((1, 3), i, np.float32) for i in range(16)]
    with ThreadPoolExecutor(4) as pool:  # ... run in others, several at once
        outs = list(pool.map(lambda x: model.invoke(Message("vector", x)).content, xs))
    for x, out in zip(xs, outs):
        np.testing.assert_allclose(out, expected(x), rtol=1e-5, atol=1e-6)


def test_mlx_error_on_invoke_is_a_model_error():
    model = MLXModel(linear(), CARD, device="cpu", node="lin")
    model.load()
    with pytest.raises(ModelError, match=r"node 'lin': linear: run failed: ValueError") as info:
        model.invoke(Message("vector", [[1.0, 2.0, 3.0, 4.0]]))  # 4 inputs into a 3-input layer
    assert isinstance(info.value.__cause__, ValueError)


def test_weights_that_do_not_fit_are_a_model_error_naming_the_file(tmp_path):
    path = tmp_path / "linear.v1.npz"
    np.savez(path, weight=np.zeros((5, 5), np.float32), bias=np.zeros(2, np.float32))
    model = MLXModel(linear(), CARD, device="cpu", weights=WeightsFile(path, "retrain it"))
    with pytest.raises(ModelError, match=r"load failed \(weights file .*linear.v1.npz; retrain it\): ValueError"):
        model.load()


def test_weights_round_trip(tmp_path):
    path = tmp_path / "linear.v1.npz"
    np.savez(path, **{k: np.array(v) for k, v in tree_flatten(linear(seed=7).parameters())})
    model = MLXModel(linear(seed=0), CARD, device="cpu", weights=WeightsFile(path))
    model.load()
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(model.forward(x), expected(x, seed=7), rtol=1e-5)


@pytest.mark.slow
def test_process_exits_cleanly_after_mlx_work_from_engine_threads():
    """MLX work from threads that end could abort the process at exit (about 1 exit in 6, seen here);
    all MLX work now runs on one daemon thread. Several fresh processes must all exit with status 0."""
    import subprocess
    import sys

    script = (
        "import asyncio\n"
        "from workbench import Engine, Network\n"
        "from workbench.data import load_dataset\n"
        "net = Network('mlx-exit'); net.add('digits-mlp')\n"
        "examples = load_dataset('digits')[:150]\n"
        "with Engine() as engine:\n"
        "    compiled = engine.compile(net)\n"
        "    async def go():\n"
        "        await asyncio.gather(*(compiled.run(m) for m, _ in examples))\n"
        "    asyncio.run(go())\n"
        "print('done')\n")
    codes = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True) for _ in range(8)]
    assert [c.returncode for c in codes] == [0] * 8, [c.stderr[-300:] for c in codes if c.returncode]
    assert all(c.stdout.strip() == "done" for c in codes)
