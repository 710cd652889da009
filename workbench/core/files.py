"""Network files: a network as readable YAML or JSON with a schema version.

    schema: workbench.network/1
    name: digits-ensemble
    protocol: vote
    nodes:
      - {id: cnn, model: digits-cnn, name: "CNN (torch)"}
      - {id: vote, model: vote}
    pathways:
      - {from: cnn, to: vote}

Reading a file never runs code: YAML is read with a safe loader that also refuses aliases (no
"billion laughs") and duplicate keys; models are looked up by name in the catalog. Every problem is
reported as a :class:`~workbench.errors.NetworkFileError` that says where (``nodes[2].model``, with the
line when known) and what was expected.
"""
from __future__ import annotations

import collections.abc
import json
import math
from pathlib import Path
from typing import Any

import yaml

from workbench.core.catalog import Catalog
from workbench.core.network import Network, Node, Pathway
from workbench.core.protocols import protocol_rules
from workbench.errors import NetworkError, NetworkFileError, UnknownModel

SCHEMA = "workbench.network/1"
NETWORK_FIELDS = {"schema": True, "name": True, "description": False, "protocol": False, "options": False,
                  "dataset": False, "nodes": True, "pathways": False}
NODE_FIELDS = {"id": True, "model": True, "name": False, "device": False, "params": False, "position": False}
PATHWAY_FIELDS = {"from": True, "to": True, "adapter": False}


# ---- writing ----------------------------------------------------------------------------------
def network_to_dict(network: Network) -> dict[str, Any]:
    nodes = []
    for node in network.nodes.values():
        if node.model is None:
            raise NetworkError(f"node {node.id!r} holds a model built in code; only catalog models can be saved")
        entry: dict[str, Any] = {"id": node.id, "model": node.model}
        if node.name != node.id:
            entry["name"] = node.name
        if node.device != "auto":
            entry["device"] = node.device
        if node.params:
            entry["params"] = dict(node.params)
        if node.position is not None:
            entry["position"] = [float(node.position[0]), float(node.position[1])]
        nodes.append(entry)
    data: dict[str, Any] = {"schema": SCHEMA, "name": network.name}
    if network.description:
        data["description"] = network.description
    data["protocol"] = network.protocol
    defaults = protocol_rules(network.protocol).options
    options = {k: v for k, v in network.options.items() if defaults.get(k, object()) != v}
    if options:
        data["options"] = options
    if network.dataset:
        data["dataset"] = network.dataset
    data["nodes"] = nodes
    data["pathways"] = [{"from": p.source, "to": p.target, **({"adapter": dict(p.adapter)} if p.adapter else {})}
                        for p in network.pathways]
    return data


def dumps(network: Network, format: str = "yaml") -> str:
    data = network_to_dict(network)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


class _Dumper(yaml.SafeDumper):
    """PyYAML writes NEL (U+0085) raw in plain and quoted scalars, and reads it back as a line break; force
    double quotes (where it is written ``\\N``) for strings that hold one."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style='"' if "\x85" in value else None))


def save(network: Network, path: str | Path) -> Path:
    """Write ``network`` to ``path``; ``.json`` writes JSON, anything else YAML."""
    path = Path(path)
    text = dumps(network, "json" if path.suffix.lower() == ".json" else "yaml")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise NetworkFileError(str(path), "", f"cannot write the file ({exc.strerror or exc})") from exc
    return path


# ---- reading ----------------------------------------------------------------------------------
def load(path: str | Path, catalog: Catalog | None = None) -> Network:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NetworkFileError(str(path), "", "no such file") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise NetworkFileError(str(path), "", f"cannot read the file ({exc})") from exc
    return loads(text, source=str(path), catalog=catalog)


def loads(text: str, source: str = "<network>", catalog: Catalog | None = None) -> Network:
    return _Reader(source, text, catalog).network(_parse(text, source))


def _parse(text: str, source: str) -> Any:
    """JSON text is read as JSON (YAML 1.1 is not quite a superset: it refuses raw U+007F and U+FFFE and reads
    ``1e+20`` as text); anything else, or JSON with a duplicate key or NaN, goes to the strict YAML reader."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_json_mapping, parse_constant=_json_constant)
        except (json.JSONDecodeError, _NotPlainJSON):
            pass  # not (plain) JSON: the YAML reader says where the problem is
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise NetworkFileError(source, where, f"not valid YAML or JSON: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow; its str() spans lines
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise NetworkFileError(source, f"line {line}, column {column}",
                               f"not valid YAML or JSON: character {exc.character!r} is not allowed") from None
    except yaml.YAMLError as exc:
        raise NetworkFileError(source, "", "not valid YAML or JSON: " + " ".join(str(exc).split())) from None


class _NotPlainJSON(Exception):
    pass


def _json_mapping(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _NotPlainJSON("duplicate key")
    return dict(pairs)


def _json_constant(name: str):
    raise _NotPlainJSON(name)


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases and duplicate keys."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(problem="aliases (*name) are not allowed in network files",
                                       problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, collections.abc.Hashable):
                raise yaml.MarkedYAMLError(problem=f"a key must be text, not {_kind(key)}",
                                           problem_mark=key_node.start_mark)
            if key in seen:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Reader:
    def __init__(self, source: str, text: str, catalog: Catalog | None):
        self.source, self.text, self.catalog = source, text, catalog

    def fail(self, path: list, problem: str) -> NetworkFileError:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        line = _line_of(self.text, path)
        if line:
            where = f"{where} (line {line})" if where else f"line {line}"
        return NetworkFileError(self.source, where, problem)

    def fields(self, value: Any, path: list, spec: dict[str, bool], what: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected {what} as a mapping of fields, found {_kind(value)}")
        for key in value:
            if key not in spec:
                raise self.fail(path + [str(key)], f"unknown field {key!r}; the fields of {what} are: {', '.join(spec)}")
        for key, required in spec.items():
            if required and key not in value:
                raise self.fail(path, f"missing field {key!r} in {what}")
        return value

    def text_field(self, value: Any, path: list, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            found = "blank text" if isinstance(value, str) else _kind(value)
            raise self.fail(path, f"expected {what} as non-empty text, found {found}")
        return value

    def optional_text(self, data: dict, key: str, path: list, what: str, default: Any = "") -> Any:
        """``data[key]`` if it is text, ``default`` if it is absent or empty; anything else is refused."""
        value = data.get(key)
        if value is None or value == "":
            return default
        if not isinstance(value, str):
            raise self.fail(path + [key], f"expected {what} as text, found {_kind(value)}")
        return value

    def network(self, data: Any) -> Network:
        data = self.fields(data, [], NETWORK_FIELDS, "a network")
        if data["schema"] != SCHEMA:
            raise self.fail(["schema"], f"unsupported schema {data['schema']!r}; expected {SCHEMA!r}")
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise self.fail(["options"], f"expected options as a mapping, found {_kind(options)}")
        try:
            network = Network(self.text_field(data["name"], ["name"], "the network name"),
                              protocol=self.text_field(data.get("protocol", "graph"), ["protocol"], "a protocol name"),
                              description=self.optional_text(data, "description", [], "a description"),
                              dataset=self.optional_text(data, "dataset", [], "a data set name", None),
                              options=options, catalog=self.catalog)
        except NetworkError as exc:
            raise self.fail(["options" if options and "option" in str(exc) else "protocol"], str(exc)) from None
        nodes = data["nodes"]
        if not isinstance(nodes, list):
            raise self.fail(["nodes"], f"expected a list of nodes, found {_kind(nodes)}")
        for i, node in enumerate(nodes):
            self.node(network, node, ["nodes", i])
        pathways = data.get("pathways") or []
        if not isinstance(pathways, list):
            raise self.fail(["pathways"], f"expected a list of pathways, found {_kind(pathways)}")
        for i, pathway in enumerate(pathways):
            self.pathway(network, pathway, ["pathways", i])
        return network

    def node(self, network: Network, data: Any, path: list) -> Node:
        data = self.fields(data, path, NODE_FIELDS, "a node")
        node_id = self.text_field(data["id"], path + ["id"], "the node id")
        model = self.text_field(data["model"], path + ["model"], "a model name")
        params = data.get("params") or {}
        if not isinstance(params, dict):
            raise self.fail(path + ["params"], f"expected params as a mapping, found {_kind(params)}")
        try:
            accepted = network.catalog.get(model).params
        except UnknownModel as exc:
            raise self.fail(path + ["model"], str(exc)) from None
        for key in params:
            if key not in accepted:
                raise self.fail(path + ["params", str(key)], f"model {model!r} takes no parameter {key!r}; "
                                                             f"accepted: {', '.join(accepted) or 'none'}")
        position = data.get("position")
        if position is not None and not (isinstance(position, list) and len(position) == 2
                                         and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 and math.isfinite(v) for v in position)):
            raise self.fail(path + ["position"], "expected position as [x, y] finite numbers")
        try:
            return network.add(model, node_id, name=self.optional_text(data, "name", path, "a display name"),
                               device=self.text_field(data.get("device", "auto"), path + ["device"], "a device"),
                               params=params, position=tuple(position) if position else None)
        except UnknownModel as exc:
            raise self.fail(path + ["model"], str(exc)) from None
        except NetworkError as exc:
            raise self.fail(path + ["id"], str(exc)) from None

    def pathway(self, network: Network, data: Any, path: list) -> Pathway:
        data = self.fields(data, path, PATHWAY_FIELDS, "a pathway")
        source = self.text_field(data["from"], path + ["from"], "a node id")
        target = self.text_field(data["to"], path + ["to"], "a node id")
        try:
            return network.add_pathway(Pathway(source, target, data.get("adapter") or None))
        except NetworkError as exc:
            raise self.fail(path, str(exc)) from None


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false", type(None): "nothing",
             int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _line_of(text: str, path: list) -> int | None:
    """The 1-based line where ``path`` points in the YAML/JSON ``text``, if it can be found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            match = next((value for key, value in node.value if key.value == step), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            break
    return node.start_mark.line + 1 if node is not None else None
