"""The model catalog: names a network file may use, each with its card and how to build it.

Entries point at their factory by import path (``"package.module:function"``); nothing is imported until a
model is built, so listing the catalog stays cheap and a network file can only name models registered here.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.cards import ModelCard
from workbench.errors import BackendUnavailable, ModelError, UnknownModel

if TYPE_CHECKING:
    from workbench.backends.base import Model


@dataclass(frozen=True)
class CatalogEntry:
    card: ModelCard
    factory: str                       # "module:function"; called as factory(device=..., node=..., **params)
    requires: tuple[str, ...] = ()     # importable packages the backend needs, e.g. ("torch",)
    extra: str | None = None           # the pip extra that installs them
    params: dict[str, Any] = field(default_factory=dict)  # accepted params and their defaults
    install: str | None = None         # how to install what it needs, when the extra alone does not

    @property
    def name(self) -> str:
        return self.card.name

    def missing(self) -> list[str]:
        """Packages the backend needs that are not installed (checked without importing them)."""
        return [pkg for pkg in self.requires if importlib.util.find_spec(pkg) is None]

    def install_hint(self, missing: list[str] = ()) -> str:
        """The command that installs what this model needs."""
        if self.install:
            return self.install
        return f"pip install 'modelnet-workbench[{self.extra}]'" if self.extra else f"pip install {' '.join(missing)}"


class Catalog:
    def __init__(self, entries: list[CatalogEntry] = ()):
        self._entries: dict[str, CatalogEntry] = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry: CatalogEntry) -> CatalogEntry:
        self._entries[entry.name] = entry
        return entry

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self._entries.values())

    def names(self) -> list[str]:
        return list(self._entries)

    def get(self, name: str) -> CatalogEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownModel(name, self.names()) from None

    def create(self, name: str, device: str = "auto", params: dict | None = None, node: str | None = None) -> "Model":
        """Build (but do not load) the model ``name``; errors name ``node``."""
        entry = self.get(name)
        params = dict(params or {})
        unknown = set(params) - set(entry.params)
        if unknown:
            accepted = ", ".join(entry.params) or "none"
            raise ModelError(f"model {name!r} takes no parameter {', '.join(sorted(unknown))}; accepted: {accepted}", node)
        if missing := entry.missing():
            raise BackendUnavailable(f"model {name!r} needs {', '.join(missing)}, not installed here; "
                                     f"{entry.install_hint(missing)}", node)
        module_name, _, attr = entry.factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        return factory(device=device, node=node, **{**entry.params, **params})


@functools.cache
def default_catalog() -> Catalog:
    """The catalog of built-in and sample models, plus those of installed plugins (``workbench.backends``)."""
    from workbench.models import BUILTIN_ENTRIES
    from workbench.plugins import plugin_entries

    return Catalog([*BUILTIN_ENTRIES, *plugin_entries()])
