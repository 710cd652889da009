"""The catalog: names a network may use; building a model reports problems naming the node."""
from __future__ import annotations

import pytest

from workbench import Catalog, CatalogEntry, Engine, ModelCard, Network, default_catalog
from workbench.core.cards import kinds_compatible
from workbench.errors import BackendUnavailable, ModelError, UnknownModel

BUILTINS = {"vote", "identity", "delay", "gather", "digits-logreg", "digits-cnn", "digits-mlp"}


def test_default_catalog_lists_the_builtin_and_sample_models():
    names = set(default_catalog().names())
    assert BUILTINS <= names
    assert default_catalog().get("vote").card.join
    assert "combine.vote" in default_catalog().get("vote").card.capabilities


def test_unknown_model():
    with pytest.raises(UnknownModel) as info:
        default_catalog().get("gpt-17")
    assert info.value.model == "gpt-17" and "known models:" in str(info.value)


def test_a_model_on_an_unknown_host_says_how_to_connect_the_host():
    alone = str(UnknownModel("digits-cnn@nohost", ["digits-cnn", "vote"]))
    assert "'nohost' is not a connected host (no hosts connected yet)" in alone
    assert "workbench peers add URL --name nohost" in alone and "known models" not in alone
    with_hosts = str(UnknownModel("digits-cnn@nohost", ["digits-cnn", "digits-cnn@lab", "chat@gpu"]))
    assert "known hosts: gpu, lab" in with_hosts
    missing_on_a_known_host = str(UnknownModel("svm@lab", ["digits-cnn", "digits-cnn@lab"]))
    assert "known models: digits-cnn, digits-cnn@lab" in missing_on_a_known_host


def fancy_catalog() -> Catalog:
    return Catalog([
        CatalogEntry(ModelCard("fancy", "fancy-backend"), "nowhere:make", requires=("surely_not_installed_pkg_xyz",),
                     extra="fancy"),
        CatalogEntry(ModelCard("bare", "fancy-backend"), "nowhere:make", requires=("surely_not_installed_pkg_xyz",)),
        CatalogEntry(ModelCard("echo", "python"), "workbench.backends.builtin:make_identity"),
    ])


def test_a_missing_backend_names_the_node_and_the_extra():
    with pytest.raises(BackendUnavailable) as info:
        fancy_catalog().create("fancy", node="n1")
    assert info.value.node == "n1"
    assert "surely_not_installed_pkg_xyz" in str(info.value)
    assert "pip install 'modelnet-workbench[fancy]'" in str(info.value)
    with pytest.raises(BackendUnavailable, match="pip install surely_not_installed_pkg_xyz"):
        fancy_catalog().create("bare")


def test_listing_a_catalog_imports_nothing():
    catalog = fancy_catalog()
    assert catalog.get("fancy").missing() == ["surely_not_installed_pkg_xyz"]
    assert "fancy" in catalog and [e.name for e in catalog] == ["fancy", "bare", "echo"]


def test_compiling_a_network_with_an_unavailable_model_names_the_node():
    net = Network("n", catalog=fancy_catalog())
    net.add("echo", "ok"), net.add("fancy", "needs-fancy")
    engine = Engine()
    try:
        with pytest.raises(BackendUnavailable) as info:
            engine.compile(net)
    finally:
        engine.close()
    assert info.value.node == "needs-fancy" and "'needs-fancy'" in str(info.value)


def test_unknown_params_are_refused_with_the_accepted_ones():
    with pytest.raises(ModelError, match="takes no parameter colour; accepted: seconds") as info:
        default_catalog().create("delay", params={"colour": "red"}, node="d")
    assert info.value.node == "d"


@pytest.mark.parametrize("produced, accepted, ok", [
    ("text", "text", True), ("text", "any", True), ("any", "image", True), ("text", "image", False),
])
def test_kinds_compatible(produced, accepted, ok):
    assert kinds_compatible(produced, accepted) is ok
