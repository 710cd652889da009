"""The palette: every model the catalog offers, grouped, each added to the network with one click."""
from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from workbench.app.theme import BACKEND_COLOURS, DEFAULT_COLOUR, html_pane
from workbench.core.catalog import Catalog, CatalogEntry, default_catalog

GROUPS = {"combine": "Combiners", "util": "Utilities"}  # by the first capability's family; else "Models"


def group_of(entry: CatalogEntry) -> str:
    family = entry.card.capabilities[0].split(".")[0] if entry.card.capabilities else ""
    return GROUPS.get(family, "Models")


class Palette(Viewer):
    """Buttons for the catalog's models; ``on_add(name)`` is called when one is clicked."""

    catalog = param.ClassSelector(class_=Catalog, doc="Where the models come from (the default catalog if not given).")
    on_add = param.Callable(default=None, doc="Called with the model's catalog name when its button is clicked.")

    def __init__(self, **params):
        params.setdefault("catalog", default_catalog())
        super().__init__(**params)
        groups: dict[str, list] = {name: [] for name in ("Models", *GROUPS.values())}
        for entry in self.catalog:
            groups[group_of(entry)].append(self._button(entry))
        self._layout = pn.Column(*[item for name, buttons in groups.items() if buttons
                                   for item in (html_pane(f"<h4 class='wb-h'>{name}</h4>", margin=(6, 4, 0, 4)),
                                                *buttons)],
                                 css_classes=["wb-palette"], sizing_mode="stretch_width")

    def _button(self, entry: CatalogEntry) -> pn.widgets.Button:
        missing = entry.missing()
        colour = BACKEND_COLOURS.get(entry.card.backend, DEFAULT_COLOUR)
        hint = (f"needs pip install 'modelnet-workbench[{entry.extra}]'" if missing else entry.card.description)
        button = pn.widgets.Button(label=f"+  {entry.name}", description=hint, disabled=bool(missing),
                                   color="light", sizing_mode="stretch_width", margin=(2, 4),
                                   css_classes=["wb-palette-item", f"wb-add-{entry.name}"],
                                   stylesheets=[f".bk-btn {{ text-align: left; border-left: 4px solid {colour} !important; "
                                                f"font-family: system-ui, sans-serif; }}"])
        button.on_click(lambda _event, name=entry.name: self.on_add and self.on_add(name))
        return button

    def __panel__(self):
        return self._layout
