"""The three shipped digit classifiers, with their real weights, on the real held-out split."""
import json
import math
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sample_models import digits
from workbench.core.catalog import default_catalog
from workbench.core.messages import Message
from workbench.data.digits import heldout_examples, split
from workbench.errors import DeviceUnavailable, ModelError
from workbench.models import card_of

NAMES = list(digits.FACTORIES)
METRICS = json.loads((digits.WEIGHTS_DIR / "metrics.json").read_text())


def build(name: str, **kwargs):
    """The model from its factory; skipped where its backend is not installed."""
    if missing := default_catalog().get(name).missing():
        pytest.skip(f"{name} needs {', '.join(missing)}")
    return digits.FACTORIES[name](**kwargs)


@pytest.fixture(scope="module", params=NAMES)
def loaded(request):
    model = build(request.param)
    model.load()
    return model


@pytest.mark.parametrize("name", NAMES)
def test_factory_gives_a_model_with_the_catalog_card_and_the_resolved_device(name):
    model = build(name)
    assert model.card == card_of(name).with_device(model.device)
    assert model.device != "auto"
    created = default_catalog().create(name)  # the CNN and MLP come micro-batched from the catalog
    assert type(getattr(created, "inner", created)) is type(model)


def test_shipped_weights_reach_the_recorded_heldout_accuracy(loaded):
    _, _, x_test, y_test = split()
    probs = loaded.predict_batch(x_test)
    assert probs.shape == (450, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    accuracy = float((probs.argmax(axis=1) == y_test).mean())
    recorded = METRICS["models"][loaded.card.name]["heldout_accuracy"]
    assert accuracy >= 0.94
    assert accuracy == pytest.approx(recorded, abs=1 / 450)  # at most one image may flip


def test_invoke_answers_label_probs(loaded):
    examples = heldout_examples()[:20]
    batch = loaded.predict_batch(np.stack([m.content for m, _ in examples]))  # (20, 10)
    for (message, _), row in zip(examples, batch):
        out = loaded.invoke(message)
        assert out.kind == "label.probs" and set(out.content) == {"label", "probs"}
        label, probs = out.content["label"], out.content["probs"]
        assert type(label) is int and len(probs) == 10 and all(type(p) is float for p in probs)
        assert math.isclose(sum(probs), 1.0, abs_tol=1e-9) and label == int(np.argmax(probs))
        np.testing.assert_allclose(probs, row, rtol=1e-5, atol=1e-7)


def test_logreg_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    model = build("digits-logreg")
    model.load()
    reference = LogisticRegression()
    reference.coef_, reference.intercept_, reference.classes_ = model.coef, model.intercept, np.arange(10)
    x_test = split()[2]
    expected = reference.predict_proba(digits.pixels(x_test))
    np.testing.assert_allclose(model.predict_batch(x_test), expected, atol=1e-6)


def test_mlp_matches_a_numpy_reference():
    model = build("digits-mlp")
    model.load()
    w = model.weights.read()
    x = digits.pixels(split()[2])                                                # (450, 64)
    hidden = np.maximum(x @ w["layers.0.weight"].T + w["layers.0.bias"], 0)      # (450, 64)
    expected = digits.softmax(hidden @ w["layers.2.weight"].T + w["layers.2.bias"])  # (450, 10)
    np.testing.assert_allclose(model.predict_batch(split()[2]), expected, atol=1e-5)


def test_a_flat_list_of_64_pixels_works_too(loaded):
    message, label = heldout_examples()[0]
    flat = Message("image.digits", message.content.reshape(64).tolist())
    assert loaded.invoke(flat).content["label"] == loaded.invoke(message).content["label"]


@pytest.mark.parametrize("message", [
    Message("image.digits", np.zeros((7, 7))),
    Message("image.digits", np.zeros((2, 8, 8))),
    Message("image.digits", [["a"] * 8] * 8),
    Message("text", np.zeros((8, 8))),
], ids=["7x7", "two-images", "strings", "wrong-kind"])
@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_a_model_error(name, message):
    model = build(name, node="digit")
    model.load()
    with pytest.raises(ModelError, match=rf"node 'digit': bad input to {name}: "):
        model.invoke(message)


def garbage(path):
    path.write_bytes(b"this is not an npz file\n" * 10)


def truncated(path):
    path.write_bytes(path.read_bytes()[:200])


def pickled(path):
    np.savez(path, coef=np.array([{"a": 1}], dtype=object))


def wrong_shapes(path):
    np.savez(path, **{key: np.zeros(3, np.float32) for key in np.load(path).files})


@pytest.mark.parametrize("corrupt", [garbage, truncated, pickled, wrong_shapes, lambda path: path.unlink()],
                         ids=["garbage", "truncated", "pickled", "wrong-shapes", "missing"])
@pytest.mark.parametrize("name", NAMES)
def test_broken_weights_file_is_a_clear_model_error(tmp_path, monkeypatch, name, corrupt):
    shutil.copytree(digits.WEIGHTS_DIR, tmp_path, dirs_exist_ok=True)
    monkeypatch.setattr(digits, "WEIGHTS_DIR", tmp_path)
    model = build(name, node="n1")
    corrupt(model.weights.path)
    with pytest.raises(ModelError) as info:
        model.load()
    text = str(info.value)
    assert text.startswith(f"node 'n1': {name}: load failed")
    assert str(tmp_path / f"{name}.v1.npz") in text and "python -m sample_models.train_digits" in text
    assert info.value.__cause__ is not None


def test_devices_that_are_not_here_name_the_node():
    with pytest.raises(DeviceUnavailable, match="node 'lr'.*cpu only"):
        digits.load_logreg(device="cuda", node="lr")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceUnavailable, match="node 'cnn'.*'cuda' is not on this machine"):
            build("digits-cnn", device="cuda", node="cnn")


def test_mlp_loads_and_runs_from_worker_threads():
    model = build("digits-mlp")
    examples = heldout_examples()[:32]
    with ThreadPoolExecutor(1) as loader:
        loader.submit(model.load).result()
    with ThreadPoolExecutor(4) as pool:
        labels = list(pool.map(lambda ex: model.invoke(ex[0]).content["label"], examples))
    expected = model.predict_batch(np.stack([m.content for m, _ in examples])).argmax(axis=1)
    assert labels == expected.tolist()


def test_shipped_files_are_small_npz_and_metrics_agree():
    assert METRICS["split"] == {"train": 1347, "heldout": 450, "test_size": 0.25,
                                      "stratified": True, "random_state": 0}
    for name in NAMES:
        path = digits.weights_file(name).path
        assert path.suffix == ".npz" and path.stat().st_size < 1_000_000
        assert METRICS["models"][name]["weights"] == path.name


def test_importing_the_sample_models_does_not_import_torch_or_mlx():
    code = ("import sys, sample_models.digits, workbench.backends.arrays; "
            "print([m for m in ('torch', 'mlx') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_weighted_example_uses_the_out_of_fold_weights_and_is_compared_with_the_plain_votes():
    from workbench.engine.compare import variants
    from workbench.examples import load_network

    fitted = json.loads((digits.WEIGHTS_DIR / "vote-weights.json").read_text())
    net = load_network("digits-weighted")
    assert net.node("vote").params["weights"] == fitted["weights"]
    assert math.isclose(sum(fitted["weights"].values()), 1.0)
    kinds = [(name, kind) for name, kind, _ in variants(net)]
    assert ("digits-weighted", "vote") in kinds and ("soft-vote of 3", "soft-vote") in kinds


def test_vote_weights_are_those_right_most_often_out_of_fold():
    from sample_models.fit_vote_weights import best_weights

    y = np.array([0, 1, 2, 3])
    sure = np.eye(10)[y]                    # always right
    wrong = np.eye(10)[(y + 1) % 10]        # always wrong, and surer than the half-right one below
    half = np.where(np.arange(4)[:, None] < 2, sure, np.full((4, 10), 0.1))
    weights, accuracy, _ = best_weights({"good": sure, "bad": wrong * 0.9, "meh": half}, y, step=0.25)
    assert accuracy == 1.0 and weights["good"] >= 0.5 and weights["bad"] < weights["good"]
    assert math.isclose(sum(weights.values()), 1.0)
