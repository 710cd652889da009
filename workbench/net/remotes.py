"""The remotes config: the hosts this workbench uses, in ``$WORKBENCH_HOME/remotes.yaml``.

    peers:                       # other workbench hosts
      - {name: lab2, url: "http://10.0.0.7:8765", token: "…"}
    openai:                      # any OpenAI-compatible server
      - {name: llama, url: "http://127.0.0.1:8080/v1", key_env: LLAMA_KEY, chat: [smollm2], embed: [minilm]}

Every remote may also set ``priority`` (lower is tried first among healthy hosts; default 0) and ``timeout``
(a step's deadline, seconds; default 60). The file holds tokens, so it is written readable by its owner
only. Read with a safe YAML loader; every problem is a :class:`~workbench.errors.ConfigError` naming the
file and the entry.
"""
from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from workbench.errors import ConfigError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$")
KINDS = {"peers": "peer", "openai": "openai"}
FIELDS = {"name", "url", "token", "key", "key_env", "chat", "embed", "priority", "timeout"}


@dataclass
class Remote:
    name: str                          # used after the @ in model names: digits-cnn@lab2
    kind: str                          # "peer" | "openai"
    url: str                           # a peer's root, or an OpenAI-compatible base URL (…/v1)
    token: str | None = None           # peer: its --token; openai: the API key
    key_env: str | None = None         # openai: read the key from this environment variable instead
    chat: list[str] = field(default_factory=list)    # openai: chat model names (text.generate)
    embed: list[str] = field(default_factory=list)   # openai: embedding model names (text.embed)
    priority: int = 0
    timeout: float = 60.0

    def secret(self) -> str | None:
        return os.environ.get(self.key_env) if self.key_env else self.token

    def to_dict(self) -> dict:
        """The fields worth writing: none that are empty or at their default."""
        defaults = {"kind": self.kind, "token": None, "key_env": None, "chat": [], "embed": [], "priority": 0,
                    "timeout": 60.0}
        return {k: v for k, v in asdict(self).items() if k not in defaults or v != defaults[k]}


def default_name(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def check(remote: Remote, where: str) -> Remote:
    """``remote`` if well formed; else ConfigError saying what is wrong at ``where``."""
    if not NAME.match(remote.name or ""):
        raise ConfigError(f"{where}: name {remote.name!r} must be letters, digits, '.', '_', ':' or '-'")
    parts = urlsplit(remote.url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: url {remote.url!r} must be an http:// or https:// address")
    if not all(isinstance(m, str) and m for m in [*remote.chat, *remote.embed]):
        raise ConfigError(f"{where}: chat and embed are lists of model names")
    if not isinstance(remote.priority, int) or not isinstance(remote.timeout, (int, float)) or remote.timeout <= 0:
        raise ConfigError(f"{where}: priority is a whole number and timeout a number of seconds > 0")
    return remote


class Remotes:
    """The remotes of one workbench, read from and written to ``path``."""

    def __init__(self, remotes: list[Remote] = (), path: Path | None = None):
        self.path = path
        self._remotes: dict[str, Remote] = {}
        for remote in remotes:
            self.add(remote)

    def __iter__(self):
        return iter(self._remotes.values())

    def __len__(self) -> int:
        return len(self._remotes)

    def get(self, name: str) -> Remote:
        try:
            return self._remotes[name]
        except KeyError:
            known = ", ".join(self._remotes) or "none"
            raise ConfigError(f"no remote named {name!r}; configured: {known}") from None

    def add(self, remote: Remote, replace: bool = False) -> Remote:
        check(remote, f"remote {remote.name!r}")
        if remote.name in self._remotes and not replace:
            raise ConfigError(f"a remote named {remote.name!r} is configured already (remove it first)")
        self._remotes[remote.name] = remote
        return remote

    def remove(self, name: str) -> Remote:
        return self._remotes.pop(self.get(name).name)

    # ---- the file ------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> "Remotes":
        path = path or default_path()
        if not path.exists():
            return cls(path=path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read the remotes config ({exc})") from exc
        if not isinstance(data, dict) or set(data) - set(KINDS):
            raise ConfigError(f"{path}: expected a mapping with the keys {', '.join(KINDS)}")
        return cls([_remote(entry, kind, f"{path}: {section}[{i}]")
                    for section, kind in KINDS.items() for i, entry in enumerate(data.get(section) or [])], path)

    def save(self, path: Path | None = None) -> Path:
        path = path or self.path or default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {section: [r.to_dict() for r in self if r.kind == kind] for section, kind in KINDS.items()}
        text = yaml.safe_dump({k: v for k, v in data.items() if v}, sort_keys=False, allow_unicode=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds tokens
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(path, 0o600)
        return path


def _remote(entry, kind: str, where: str) -> Remote:
    if not isinstance(entry, dict) or set(entry) - FIELDS or "url" not in entry:
        raise ConfigError(f"{where}: expected a mapping with url and some of: {', '.join(sorted(FIELDS))}")
    entry = {**entry, "name": str(entry.get("name") or default_name(str(entry["url"])))}
    for key in ("chat", "embed"):
        entry[key] = list(entry.get(key) or [])
    return check(Remote(kind=kind, **entry), where)


def default_path() -> Path:
    from workbench.config import home

    return home() / "remotes.yaml"
