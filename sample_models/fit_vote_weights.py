"""Fit soft-vote weights for the three digit classifiers without looking at the held-out images.

    python -m sample_models.fit_vote_weights [--folds 5] [--step 0.05]

Stacking by cross-fitting: the 1,347 training images are cut into ``--folds`` stratified folds; for each
fold, the three models are trained from scratch (same recipes and seeds as ``train_digits``) on the other
folds and predict the held-back one. Every training image so gets an out-of-fold probability from each model,
made by a model that never saw it. The weights (on a grid of ``--step`` over the simplex) are those whose soft
vote is right most often out of fold, ties going to the lower log-loss. They are written to
``weights/vote-weights.json`` and used by the ``digits-weighted`` example; the held-out split is only read
afterwards, by ``workbench eval digits-weighted``.
"""
from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np

from sample_models.digits import WEIGHTS_DIR, cnn_module, mlp_module, pixels, softmax
from sample_models.train_digits import TRAINERS
from workbench.data import digits as data

OUT = WEIGHTS_DIR / "vote-weights.json"
NODES = {"cnn": "cnn", "mlp": "mlp", "logreg": "logreg"}  # model → node id in digits-weighted.yaml


def predict(short: str, state: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(n, 64) pixels → (n, 10) probabilities of a model trained in memory."""
    if short == "logreg":
        return softmax(x @ state["coef"].T + state["intercept"])
    if short == "cnn":
        import torch

        module = cnn_module()
        module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        with torch.inference_mode():
            return softmax(module(torch.from_numpy(x)).numpy())
    import mlx.core as mx
    from mlx.utils import tree_unflatten

    module = mlp_module()
    module.update(tree_unflatten([(k, mx.array(v)) for k, v in state.items()]))
    with mx.stream(mx.cpu):
        return softmax(np.array(module(mx.array(x))))


def out_of_fold(folds: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each model's out-of-fold probabilities on the training images (n, 10), and the labels (n,)."""
    from sklearn.model_selection import StratifiedKFold

    x_train, y_train, _, _ = data.split()
    x, probs = pixels(x_train), {short: np.zeros((len(x_train), 10)) for short in TRAINERS}
    for number, (fit, held) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=data.SEED).split(x, y_train)):
        start = time.perf_counter()
        for short, train in TRAINERS.items():
            probs[short][held] = predict(short, train(x[fit], y_train[fit]), x[held])
        print(f"fold {number + 1}/{folds}: {len(fit)} to train, {len(held)} held back, {time.perf_counter() - start:.1f} s")
    return probs, y_train


def best_weights(probs: dict[str, np.ndarray], y: np.ndarray, step: float) -> tuple[dict[str, float], float, float]:
    """The grid weights (summing to 1) whose weighted mean probability is right most often; ties: log-loss."""
    names, ticks = list(probs), round(1 / step)
    best = None
    for parts in itertools.product(range(ticks + 1), repeat=len(names) - 1):
        if sum(parts) > ticks:
            continue
        w = [p / ticks for p in parts] + [(ticks - sum(parts)) / ticks]
        mixed = sum(wi * probs[n] for wi, n in zip(w, names))  # (n, 10)
        accuracy = float((mixed.argmax(axis=1) == y).mean())
        loss = float(-np.log(np.clip(mixed[np.arange(len(y)), y], 1e-12, None)).mean())
        if best is None or (accuracy, -loss) > (best[1], -best[2]):
            best = (dict(zip(names, w)), accuracy, loss)
    return best


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--step", type=float, default=0.05)
    args = parser.parse_args(argv)
    probs, y = out_of_fold(args.folds)
    weights, accuracy, loss = best_weights(probs, y, args.step)
    alone = {short: float((p.argmax(axis=1) == y).mean()) for short, p in probs.items()}
    equal = float((sum(probs.values()).argmax(axis=1) == y).mean())
    result = {"weights": {NODES[k]: round(v, 4) for k, v in weights.items()}, "folds": args.folds, "step": args.step,
              "out_of_fold_accuracy": {"weighted": accuracy, "equal": equal, **alone}, "out_of_fold_log_loss": loss}
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"weights {result['weights']}: out-of-fold accuracy {accuracy:.2%} (equal weights {equal:.2%}; "
          + ", ".join(f"{k} {v:.2%}" for k, v in alone.items()) + f"); written to {OUT}")
    return result


if __name__ == "__main__":
    main()
