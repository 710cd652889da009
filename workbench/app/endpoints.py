"""Checking what a user types into the "connect a remote host" form. Pure Python.

Two kinds of endpoint: another workbench host (``workbench host``) and any OpenAI-compatible server
(``/v1/chat/completions``). The form only accepts what a client could actually reach: an http(s) URL with a
host name, an optional port in range, no credentials in the URL and no query or fragment.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

KINDS = {"workbench": "another workbench host", "openai": "OpenAI-compatible endpoint"}


@dataclass(frozen=True)
class Endpoint:
    kind: str          # one of KINDS
    url: str           # normalized: scheme://host[:port][/path], no trailing slash
    model: str = ""    # the served model's name (OpenAI-compatible endpoints)
    label: str = ""    # how the palette names it


def check_endpoint(kind: str, url: str, model: str = "", label: str = "") -> tuple[Endpoint | None, list[str]]:
    """The endpoint and no problems, or None and every problem found, each in words."""
    problems = []
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    url = (url or "").strip()
    problems += _url_problems(url)
    if kind == "openai" and not (model or "").strip():
        problems.append("an OpenAI-compatible endpoint needs the name of the model it serves")
    if problems:
        return None, problems
    return Endpoint(kind, url.rstrip("/"), model.strip(), label.strip() or urlsplit(url).hostname or url), []


def _url_problems(url: str) -> list[str]:
    if not url:
        return ["give the endpoint's URL, e.g. http://127.0.0.1:8000"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return [f"the URL must start with http:// or https://, not {url!r}"]
    problems = []
    if not parts.hostname:
        problems.append("the URL names no host")
    if parts.username or parts.password:
        problems.append("put no user name or password in the URL; keys go in the key field")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        problems.append("the port must be a number from 1 to 65535")
    if parts.query or parts.fragment:
        problems.append("the URL takes no ?query or #fragment")
    return problems
