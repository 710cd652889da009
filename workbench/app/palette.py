"""The palette: every model the catalog offers, grouped, each added to the network with one click.

Local models come first (models, combiners, utilities), then one group per connected host — its name and
health in the heading, its models named ``model@host`` — and last the capabilities (``cap:<capability>``:
the best healthy model offering it, anywhere). :meth:`Palette.refresh` redraws it for a new catalog;
:meth:`Palette.show_health` only updates the hosts' headings.
"""
from __future__ import annotations

import html
import re

import panel as pn
import param
from panel.viewable import Viewer

from workbench.app.theme import BACKEND_COLOURS, DEFAULT_COLOUR, health_dot, html_pane
from workbench.core.catalog import Catalog, CatalogEntry, default_catalog

GROUPS = {"combine": "Combiners", "util": "Utilities"}  # by the first capability's family; else "Models"
CAPABILITIES = "Capabilities (routed)"
REMOTE = ("peer", "openai")


def group_of(entry: CatalogEntry) -> str:
    if entry.card.backend == "route":
        return CAPABILITIES
    if entry.card.backend in REMOTE:
        return f"host:{entry.card.host}"
    family = entry.card.capabilities[0].split(".")[0] if entry.card.capabilities else ""
    return GROUPS.get(family, "Models")


def css_name(name: str) -> str:
    """A model name as a CSS class: ``digits-cnn@b`` → ``digits-cnn_b``, ``cap:text.generate`` → ``cap_text_generate``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


class Palette(Viewer):
    """Buttons for the catalog's models; ``on_add(name)`` is called when one is clicked."""

    catalog = param.ClassSelector(class_=Catalog, doc="Where the models come from (the default catalog if not given).")
    hosts = param.Parameter(default=None, doc="The app's Hosts (connections); if given, its catalog and health are shown.")
    on_add = param.Callable(default=None, doc="Called with the model's catalog name when its button is clicked.")

    def __init__(self, **params):
        params.setdefault("catalog", params["hosts"].catalog if params.get("hosts") else default_catalog())
        super().__init__(**params)
        self._headings: dict[str, pn.pane.HTML] = {}
        self._layout = pn.Column(css_classes=["wb-palette"], sizing_mode="stretch_width")
        self.refresh()

    def refresh(self) -> None:
        """Redraw every group from the (new) catalog."""
        if self.hosts is not None:
            self.catalog = self.hosts.catalog
        groups: dict[str, list] = {name: [] for name in ("Models", *GROUPS.values())}
        groups.update({f"host:{row.name}": [] for row in self._rows()})
        groups[CAPABILITIES] = []
        for entry in self.catalog:
            if self.hosts is None or self.hosts.listed(entry):
                groups.setdefault(group_of(entry), []).append(self._button(entry))
        self._headings = {}
        self._layout[:] = [item for name, buttons in groups.items() if buttons or name.startswith("host:")
                           for item in (self._heading(name), *buttons)]
        self.show_health()

    def _rows(self):
        return self.hosts.rows() if self.hosts is not None else []

    def _heading(self, name: str):
        if not name.startswith("host:"):
            return html_pane(f"<h4 class='wb-h'>{name}</h4>", margin=(6, 4, 0, 4))
        pane = html_pane("", margin=(6, 4, 0, 4), sizing_mode="stretch_width",
                         css_classes=["wb-palette-host", f"wb-host-{css_name(name[5:])}"])
        self._headings[name[5:]] = pane
        return pane

    def show_health(self) -> None:
        """Update each host's heading: name, kind, health; a host that lists no model says so."""
        for row in self._rows():
            if (pane := self._headings.get(row.name)) is not None:
                none = "" if row.models else "<div class='wb-muted'>no models listed</div>"
                pane.object = (f"<h4 class='wb-h'>on {html.escape(row.name)}</h4><div class='wb-host-health'>"
                               f"{health_dot(row.healthy)} {html.escape(row.health)}</div>{none}")

    def _button(self, entry: CatalogEntry) -> pn.widgets.Button:
        missing = entry.missing()
        colour = BACKEND_COLOURS.get(entry.card.backend, DEFAULT_COLOUR)
        hint = (f"needs pip install 'modelnet-workbench[{entry.extra}]'" if missing else entry.card.description)
        button = pn.widgets.Button(label=f"+  {entry.name}", description=hint, disabled=bool(missing),
                                   color="light", sizing_mode="stretch_width", margin=(2, 4),
                                   css_classes=["wb-palette-item", f"wb-add-{css_name(entry.name)}"],
                                   stylesheets=[f".bk-btn {{ text-align: left; border-left: 4px solid {colour} !important; "
                                                f"font-family: system-ui, sans-serif; overflow: hidden; "
                                                f"text-overflow: ellipsis; }}"])
        button.on_click(lambda _event, name=entry.name: self.on_add and self.on_add(name))
        return button

    def __panel__(self):
        return self._layout
