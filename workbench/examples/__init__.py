"""Example networks that ship with the workbench, by name."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from workbench.core import files
from workbench.core.network import Network


def example_paths() -> dict[str, Path]:
    folder = resources.files(__name__)
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml")}


def resolve(name_or_path: str) -> Path:
    """A network file: an existing path, or the name of a shipped example."""
    path = Path(name_or_path)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        return path
    examples = example_paths()
    if name_or_path in examples:
        return examples[name_or_path]
    from workbench.errors import NetworkFileError

    raise NetworkFileError(name_or_path, "", f"no such file, and no shipped example of that name; "
                                             f"examples: {', '.join(sorted(examples))}")


def load_network(name_or_path: str, catalog=None) -> Network:
    return files.load(resolve(name_or_path), catalog)
