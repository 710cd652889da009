"""Shared, session-scoped real models for the language and embedding tests (loaded once, used by many).

Every test here runs with one temporary ``$WORKBENCH_HOME``, so the first torch load really dequantizes the
GGUF file and fills that cache, and later loads (in this process or a CLI subprocess) read it.
"""
import os

import pytest

pytest.importorskip("transformers")
pytest.importorskip("mlx_lm")
pytest.importorskip("sentence_transformers")



@pytest.fixture(scope="session")
def llm_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("workbench-home")
    previous = os.environ.get("WORKBENCH_HOME")
    os.environ["WORKBENCH_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("WORKBENCH_HOME", None)
    else:
        os.environ["WORKBENCH_HOME"] = previous


@pytest.fixture(scope="session")
def torch_load_progress():
    """The Progress records of the session's first torch load (a cold one: nothing cached yet)."""
    return []


@pytest.fixture(scope="session")
def torch_chat(llm_home, torch_load_progress):
    from workbench.backends.llm_torch import make_smollm2

    model = make_smollm2(device="cpu", max_new_tokens=24)
    model.load(progress=torch_load_progress.append)
    return model


@pytest.fixture(scope="session")
def mlx_chat(llm_home):
    from workbench.backends.llm_mlx import make_smollm2

    model = make_smollm2(device="cpu", max_new_tokens=24)
    model.load()
    return model


@pytest.fixture(scope="session")
def minilm(llm_home):
    from workbench.backends.embed import make_minilm

    model = make_minilm(device="cpu")
    model.load()
    return model
