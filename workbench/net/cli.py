"""``workbench host | peers | remote | capabilities``: serve models, connect to remotes, see who can do what."""
from __future__ import annotations

import importlib

import click

from workbench.console import dump, fail_cleanly
from workbench.errors import ConfigError


@click.command()
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0: any free port.")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but loopback needs --token.")
@click.option("--token", envvar="WORKBENCH_TOKEN", help="Require `Authorization: Bearer TOKEN` [env WORKBENCH_TOKEN].")
@click.option("--name", help="This host's name in other workbenches (default: hostname:port).")
@click.option("--max-body", default=8 * 1024 * 1024, show_default=True, type=click.IntRange(min=1024),
              help="Largest request body, bytes.")
@click.option("--models-from", "extra", multiple=True, metavar="MODULE:ATTR",
              help="Also serve the catalog entries listed at MODULE:ATTR (a plugin's).")
@fail_cleanly
def host(port, bind, token, name, max_body, extra):
    """Serve this machine's models over HTTP: cards, invoke, streams, health and an OpenAI-compatible /v1."""
    from workbench.core.catalog import Catalog, default_catalog
    from workbench.net.server import serve

    catalog = Catalog([*default_catalog(), *(e for spec in extra for e in _entries(spec))])
    serve(catalog, port=port, bind=bind, token=token, name=name, max_body=max_body,
          announce=lambda line: click.echo(line, err=True))


def _entries(spec: str) -> list:
    module, _, attr = spec.partition(":")
    try:
        return list(getattr(importlib.import_module(module), attr or "ENTRIES"))
    except (ImportError, AttributeError, TypeError) as exc:
        raise ConfigError(f"--models-from {spec}: cannot import the catalog entries ({exc})") from exc


@click.group()
def peers():
    """Other workbench hosts whose models this workbench uses (kept in $WORKBENCH_HOME/remotes.yaml)."""


@peers.command("add")
@click.argument("url")
@click.option("--name", help="Its name here, after the @ in model names (default: host:port).")
@click.option("--token", help="The token the peer was started with.")
@click.option("--priority", default=0, show_default=True, help="Lower is tried first among healthy hosts.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="A step's deadline on this peer, seconds (all retries included).")
@fail_cleanly
def peers_add(url, name, token, priority, timeout):
    """Add the peer at URL and list what it offers."""
    from workbench.net.remotes import Remote, default_name

    _add(Remote(name or default_name(url), "peer", url, token=token, priority=priority, timeout=timeout))


@click.group()
def remote():
    """Remotes of any kind: OpenAI-compatible servers and peers."""


@remote.command("add-openai")
@click.argument("name")
@click.argument("base_url")
@click.option("--key", help="The API key (stored in remotes.yaml, readable by you only).")
@click.option("--key-env", help="Read the API key from this environment variable instead.")
@click.option("--chat", multiple=True, help="A chat model name (text.generate); repeat for more.")
@click.option("--embed", multiple=True, help="An embedding model name (text.embed); repeat for more.")
@click.option("--priority", default=0, show_default=True)
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True))
@fail_cleanly
def remote_add_openai(name, base_url, key, key_env, chat, embed, priority, timeout):
    """Add an OpenAI-compatible server at BASE_URL (e.g. http://127.0.0.1:8080/v1) as NAME.

    Without --chat or --embed, every model it lists is used (names containing "embed" as embedders).
    """
    from workbench.net.remotes import Remote

    _add(Remote(name, "openai", base_url, token=key, key_env=key_env, chat=list(chat), embed=list(embed),
                priority=priority, timeout=timeout))


def _add(new) -> None:
    from workbench.net.connected import connected_catalog
    from workbench.net.remotes import Remotes

    remotes = Remotes.load()
    remotes.add(new)
    catalog = connected_catalog(remotes)  # probes it (and refreshes the other remotes' cached cards)
    health = catalog.hosts()[new.name]
    if "HTTP 401" in health or "HTTP 403" in health:
        raise click.ClickException(f"{new.kind} {new.name!r} at {new.url} refused the token ({health}); not saved")
    path = remotes.save()
    found = [e.name for e in catalog if e.card.host == new.name]
    click.echo(f"added {new.kind} {new.name!r} ({new.url}) to {path}: {health}")
    click.echo(f"  {len(found)} models: {', '.join(found)}" if found else "  no models seen yet")
    if not found:
        click.echo(f"warning: {new.name!r} did not answer now; it is saved and will be asked again when used "
                   f"(remove it with: workbench peers remove {new.name})", err=True)


@click.command("list")
@click.option("--json", "as_json", is_flag=True)
@fail_cleanly
def list_remotes(as_json):
    """List the remotes with their health, checked now."""
    from workbench.console import table
    from workbench.net.connected import connected_catalog
    from workbench.net.remotes import Remotes

    remotes = Remotes.load()
    if not len(remotes):
        if as_json:
            return click.echo("[]")
        return click.echo("no remotes yet; try: workbench peers add http://HOST:8765")
    catalog = connected_catalog(remotes)
    rows = [{"name": r.name, "kind": r.kind, "url": r.url, "priority": r.priority, "health": catalog.hosts()[r.name],
             "models": sum(e.card.host == r.name for e in catalog)} for r in remotes]
    if as_json:
        return dump(rows)
    click.echo(table([[r["name"], r["kind"], r["url"], str(r["models"]), r["health"]] for r in rows],
                     ["remote", "kind", "url", "models", "health"], right={3}))


@click.command("remove")
@click.argument("name")
@fail_cleanly
def remove_remote(name):
    """Forget the remote NAME."""
    from workbench.net.remotes import Remotes

    remotes = Remotes.load()
    gone = remotes.remove(name)
    click.echo(f"removed {gone.kind} {gone.name!r} from {remotes.save()}")


@click.command()
@click.argument("capability", required=False)
@click.option("--json", "as_json", is_flag=True)
@fail_cleanly
def capabilities(capability, as_json):
    """Who can do what across this machine and its remotes, best first (healthy, priority, latency × load, cost)."""
    from workbench.console import table
    import asyncio

    from workbench.net.connected import connect

    catalog = asyncio.run(connect())
    caps = [capability] if capability else sorted({c for e in catalog for c in e.card.capabilities})
    rows = [{"capability": cap, "model": c.name, "host": c.host,
             "health": c.status.describe() if c.host != "local" else "this machine"}
            for cap in caps for c in catalog.router.who_can(cap)]
    if as_json:
        return dump(rows)
    click.echo(table([[r["capability"], r["model"], r["host"], r["health"]] for r in rows],
                     ["capability", "model", "host", "health"]))


def register(cli: click.Group) -> None:
    for command in (list_remotes, remove_remote):
        peers.add_command(command)
        remote.add_command(command)
    for command in (host, peers, remote, capabilities):
        cli.add_command(command)
