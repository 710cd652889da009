"""A scikit-learn backend for ModelNet Workbench, as a plugin.

``SklearnModel`` wraps any estimator with ``predict_proba``. The catalog entries below train theirs on
the workbench's fixed digits training split when first loaded (about a second), so nothing is stored.
This module stays light: scikit-learn is imported only when a model is built.
"""
from __future__ import annotations

from workbench import CatalogEntry, Message, Model, ModelCard
from workbench.errors import DeviceUnavailable

DIGITS = dict(input_kind="image.digits", output_kind="label.probs", capabilities=("image.classify.digits",))


class SklearnModel(Model):
    """Any fitted scikit-learn classifier over 8×8 digit images (pixel values 0–16)."""

    blocking = True

    def __init__(self, card: ModelCard, make_estimator):
        self.card, self.make_estimator, self.estimator = card, make_estimator, None

    def load(self) -> None:
        from workbench.data.digits import split

        x_train, y_train, _, _ = split()
        self.estimator = self.make_estimator().fit(x_train.reshape(len(x_train), 64), y_train)

    def invoke(self, message: Message) -> Message:
        probs = self.estimator.predict_proba([[float(v) for v in message.content.reshape(64)]])[0]  # (10,)
        return Message("label.probs", {"label": int(probs.argmax()), "probs": [float(p) for p in probs]})


def make_svm(device: str = "auto", node: str | None = None) -> SklearnModel:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    _cpu_only(device, node)
    return SklearnModel(ENTRIES[0].card, lambda: CalibratedClassifierCV(SVC(gamma=0.001), ensemble=False))


def make_knn(device: str = "auto", node: str | None = None) -> SklearnModel:
    from sklearn.neighbors import KNeighborsClassifier

    _cpu_only(device, node)
    return SklearnModel(ENTRIES[1].card, lambda: KNeighborsClassifier(n_neighbors=5, weights="distance"))


def _cpu_only(device: str, node: str | None) -> None:
    if device not in ("auto", "cpu"):
        raise DeviceUnavailable(f"scikit-learn models run on the cpu only, not on {device!r}", node)


ENTRIES = [
    CatalogEntry(ModelCard("digits-svm", "sklearn", **DIGITS, cost=20.0,
                           description="support-vector classifier (RBF), trained on load (scikit-learn plugin)"),
                 "workbench_sklearn:make_svm", requires=("sklearn",)),
    CatalogEntry(ModelCard("digits-knn", "sklearn", **DIGITS, cost=86.0,
                           description="5-nearest-neighbour classifier, trained on load (scikit-learn plugin)"),
                 "workbench_sklearn:make_knn", requires=("sklearn",)),
]
