"""Train the three sample digit classifiers on the fixed split; write their weights and held-out metrics.

    python -m sample_models.train_digits [--only cnn|mlp|logreg]

Seeds are fixed and training runs on the CPU, in seconds. Each model is then evaluated through its own
factory, from the file just written, so the recorded accuracy is the shipped weights' accuracy.
"""
from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np

from sample_models.digits import FACTORIES, WEIGHTS_DIR, cnn_module, mlp_module, pixels, weights_file
from workbench.data import digits as data

SEED = 0
EPOCHS, BATCH, LR = 40, 32, 3e-3
METRICS = WEIGHTS_DIR / "metrics.json"


def batches(n: int, rng: np.random.Generator):
    """Shuffled index batches, one epoch after another."""
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        yield from (order[i:i + BATCH] for i in range(0, n, BATCH))


def train_cnn(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """x (n, 64) in 0–1, y (n,) → the CNN's state dict."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(SEED)
    module, (xt, yt) = cnn_module(), (torch.from_numpy(x), torch.from_numpy(y))
    optimizer = torch.optim.Adam(module.parameters(), lr=LR)
    for idx in batches(len(x), np.random.default_rng(SEED)):
        loss = F.cross_entropy(module(xt[idx]), yt[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def train_mlp(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """x (n, 64) in 0–1, y (n,) → the MLP's flattened parameters."""
    import mlx.core as mx
    import mlx.optimizers as optim
    from mlx import nn
    from mlx.utils import tree_flatten

    mx.random.seed(SEED)
    module, optimizer = mlp_module(), optim.Adam(learning_rate=LR)
    loss_and_grad = nn.value_and_grad(module, lambda m, xb, yb: nn.losses.cross_entropy(m(xb), yb).mean())
    with mx.stream(mx.cpu):
        for idx in batches(len(x), np.random.default_rng(SEED)):
            _, grads = loss_and_grad(module, mx.array(x[idx]), mx.array(y[idx]))
            optimizer.update(module, grads)
            mx.eval(module.parameters(), optimizer.state)
    return {k: np.array(v) for k, v in tree_flatten(module.parameters())}


def train_logreg(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """x (n, 64) in 0–1, y (n,) → coef (10, 64) and intercept (10,)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=5000).fit(x, y)  # scikit-learn's defaults otherwise (C=1)
    return {"coef": model.coef_.astype(np.float32), "intercept": model.intercept_.astype(np.float32)}


TRAINERS = {"cnn": train_cnn, "mlp": train_mlp, "logreg": train_logreg}


def heldout_errors(name: str) -> list[int]:
    """Indices of the held-out images the shipped model ``name`` gets wrong."""
    _, _, x_test, y_test = data.split()
    model = FACTORIES[name](device="cpu")
    model.load()
    return np.flatnonzero(model.predict_batch(x_test).argmax(axis=1) != y_test).tolist()


def train(short: str) -> dict:
    """Train one model, write its weights, and return its metrics entry."""
    x_train, y_train, x_test, _ = data.split()
    name, start = f"digits-{short}", time.perf_counter()
    path = weights_file(name).path
    np.savez(path, **TRAINERS[short](pixels(x_train), y_train))
    seconds, errors = time.perf_counter() - start, heldout_errors(name)
    accuracy = 1 - len(errors) / len(x_test)
    print(f"{name:14} held-out accuracy {accuracy:.2%} ({len(errors)} errors); "
          f"trained in {seconds:.1f} s; {path.name} {path.stat().st_size / 1024:.0f} KB")
    return {"weights": path.name, "heldout_accuracy": round(accuracy, 6), "heldout_errors": errors}


def summary(models: dict) -> dict:
    """Split facts, per-model entries, and how many held-out errors each pair of models shares."""
    x_train, _, x_test, _ = data.split()
    wrong = {name: set(entry["heldout_errors"]) for name, entry in models.items()}
    shared = {f"{a} & {b}": len(wrong[a] & wrong[b]) for a, b in itertools.combinations(sorted(wrong), 2)}
    counts = [sum(i in w for w in wrong.values()) for i in set().union(*wrong.values())]
    split = {"train": len(x_train), "heldout": len(x_test), "test_size": data.TEST_SIZE,
             "stratified": True, "random_state": data.SEED}
    return {"split": split, "models": dict(sorted(models.items())), "shared_errors": shared,
            "wrong_in_two_or_more": sum(c >= 2 for c in counts)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(TRAINERS), help="train just this model")
    args = parser.parse_args(argv)
    WEIGHTS_DIR.mkdir(exist_ok=True)
    models = json.loads(METRICS.read_text())["models"] if args.only and METRICS.exists() else {}
    for short in [args.only] if args.only else TRAINERS:
        models[f"digits-{short}"] = train(short)
    metrics = summary(models)
    METRICS.write_text(json.dumps(metrics, indent=2) + "\n")
    for pair, n in metrics["shared_errors"].items():
        print(f"shared held-out errors, {pair}: {n}")
    print(f"wrong in two or more models: {metrics['wrong_in_two_or_more']}; metrics in {METRICS}")
    return metrics


if __name__ == "__main__":
    main()
