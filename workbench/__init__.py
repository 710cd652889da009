"""ModelNet Workbench: networks of AI models, their pathways, and traced collaborative runs.

The public API is this module's ``__all__``; everything else is an implementation detail. Importing
the package stays light: torch, MLX and Panel are imported only by the models and views that use them.
"""
from workbench.backends.base import Model, PythonModel
from workbench.core.cards import ModelCard
from workbench.core.catalog import Catalog, CatalogEntry, default_catalog
from workbench.core.files import load as load_network
from workbench.core.files import save as save_network
from workbench.core.messages import Message
from workbench.core.network import Network, Node, Pathway
from workbench.engine.events import Event, Trace
from workbench.engine.runner import CompiledNetwork, Engine, RunResult
from workbench.store.sqlite import RunRecord, Store
from workbench import errors

__version__ = "0.1.0"

__all__ = [
    "Catalog", "CatalogEntry", "CompiledNetwork", "Engine", "Event", "Message", "Model", "ModelCard",
    "Network", "Node", "Pathway", "PythonModel", "RunRecord", "RunResult", "Store", "Trace",
    "default_catalog", "errors", "load_network", "save_network",
]
