"""Checking what a user types into the "connect a remote host" form. Pure Python (no Panel, no HTTP).

Two kinds of remote: another workbench host (``workbench host``, kind ``peer``) and any OpenAI-compatible
server (kind ``openai``, base URL usually ending in ``/v1``). The form only accepts what a client could
actually reach: an http(s) URL with a host name, an optional port in range, no credentials in the URL and no
query or fragment; a name usable after the ``@`` of model names; model names without spaces. What passes
is a :class:`~workbench.net.remotes.Remote`, ready for the remotes config.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from workbench.net.remotes import NAME, Remote, default_name

KINDS = {"peer": "another workbench host", "openai": "OpenAI-compatible endpoint"}
SPLIT = re.compile(r"[\s,]+")


def model_names(text: str) -> list[str]:
    """``"a, b c"`` → ``["a", "b", "c"]``: names are separated by commas or spaces."""
    return [name for name in SPLIT.split(text or "") if name]


def check_endpoint(kind: str, url: str, name: str = "", key: str = "", chat: str = "",
                   embed: str = "") -> tuple[Remote | None, list[str]]:
    """The remote and no problems, or None and every problem found, each in words."""
    problems = []
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    url = (url or "").strip().rstrip("/")
    problems += _url_problems(url)
    name = (name or "").strip() or (default_name(url) if not problems else "")
    if name and not NAME.match(name):
        problems.append(f"the name {name!r} may hold only letters, digits, '.', '_', ':' and '-' (up to 63)")
    chat_names, embed_names = model_names(chat), model_names(embed)
    if kind == "peer" and (chat_names or embed_names):
        problems.append("a workbench host lists its own models: leave the model names empty")
    if problems:
        return None, problems
    return Remote(name, kind, url, token=(key or "").strip() or None, chat=chat_names, embed=embed_names), []


def _url_problems(url: str) -> list[str]:
    if not url:
        return ["give the host's URL, e.g. http://127.0.0.1:8765"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return [f"the URL must start with http:// or https://, not {url!r}"]
    problems = []
    if not parts.hostname:
        problems.append("the URL names no host")
    if parts.username or parts.password:
        problems.append("put no user name or password in the URL; tokens and keys go in their own field")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        problems.append("the port must be a number from 1 to 65535")
    if parts.query or parts.fragment:
        problems.append("the URL takes no ?query or #fragment")
    return problems
