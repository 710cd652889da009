"""The workbench's exceptions, all in one tree.

    WorkbenchError
    ├── NetworkError               building or editing a network
    │   ├── UnknownNode            a pathway or lookup names a node that is not there
    │   ├── DuplicateNode          two nodes with one id
    │   └── PathwayError           a pathway was refused
    │       ├── SelfLoop
    │       ├── DuplicatePathway
    │       ├── IncompatibleKinds  the source's output kind is not what the target takes
    │       └── CycleNotAllowed    the protocol forbids cycles and this pathway closes one
    ├── NetworkFileError           a network file is malformed; says where and what was expected
    ├── UnknownModel               a model name that no catalog entry has
    ├── ModelError                 a model failed to load or run; names the node
    │   ├── BackendUnavailable     the backend's package is not installed (names the extra)
    │   ├── DeviceUnavailable      the requested device is not on this machine
    │   ├── StepTimeout            a step ran past its deadline
    │   ├── CapabilityUnavailable  no model (local or remote) offers a capability, or every one failed
    │   └── RemoteError            a remote host or OpenAI-compatible server failed; names the host
    │       ├── HostUnreachable    no connection, or it was lost before an answer (after the retries allowed)
    │       ├── RemoteHTTPError    an error status or a non-JSON answer; carries the status and a trimmed snippet
    │       └── StreamBroken       a body or stream that stalled, broke off or carried an error event;
    │                              keeps the partial text, marked incomplete
    ├── ConfigError                a config file (remotes, host options) is malformed or unsafe
    ├── RunCancelled               a run was cancelled
    └── StoreError                 the run store could not be read or written
        └── RunNotFound

Errors from the libraries underneath (torch, mlx, sqlite3, yaml) are re-raised as one of these,
with the original kept as ``__cause__``.
"""
from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class NetworkError(WorkbenchError):
    """A network could not be built or edited as asked."""


class UnknownNode(NetworkError, KeyError):
    def __init__(self, node: str, known: list[str] | tuple[str, ...] = ()):
        self.node = node
        hint = f"; known nodes: {', '.join(known)}" if known else ""
        super().__init__(f"no node {node!r} in the network{hint}")

    __str__ = Exception.__str__  # KeyError would quote the message


class DuplicateNode(NetworkError):
    def __init__(self, node: str):
        self.node = node
        super().__init__(f"a node with id {node!r} is already in the network")


class PathwayError(NetworkError):
    """A pathway was refused. ``source`` and ``target`` name its ends."""

    def __init__(self, source: str, target: str, reason: str):
        self.source, self.target, self.reason = source, target, reason
        super().__init__(f"pathway {source!r} → {target!r} refused: {reason}")


class SelfLoop(PathwayError):
    def __init__(self, node: str):
        super().__init__(node, node, "a model cannot feed itself")


class DuplicatePathway(PathwayError):
    def __init__(self, source: str, target: str):
        super().__init__(source, target, "these nodes are already connected")


class IncompatibleKinds(PathwayError):
    pass


class CycleNotAllowed(PathwayError):
    def __init__(self, source: str, target: str, cycle: list[str], protocol: str):
        self.cycle = cycle
        loop = " → ".join(cycle)
        super().__init__(source, target, f"it closes the cycle {loop}, and protocol {protocol!r} forbids cycles")


class NetworkFileError(WorkbenchError):
    """A network file is malformed. ``where`` is a path into the file such as ``nodes[2].model``."""

    def __init__(self, source: str, where: str, problem: str):
        self.source, self.where, self.problem = source, where, problem
        at = f" at {where}" if where else ""
        super().__init__(f"{source}{at}: {problem}")


class UnknownModel(WorkbenchError, KeyError):
    def __init__(self, model: str, known: list[str] | tuple[str, ...] = ()):
        self.model = model
        _, at, host = model.rpartition("@")
        hosts = sorted({k.rpartition("@")[2] for k in known if "@" in k})
        if at and host not in hosts:  # a remote model on a host this workbench does not know
            known_hosts = f"known hosts: {', '.join(hosts)}" if hosts else "no hosts connected yet"
            hint = (f"; {host!r} is not a connected host ({known_hosts}); connect it with "
                    f"`workbench peers add URL --name {host}` or `workbench remote add-openai {host} URL`")
        else:
            hint = f"; known models: {', '.join(known)}" if known else ""
        super().__init__(f"no model named {model!r} in the catalog{hint}")

    __str__ = Exception.__str__


class ModelError(WorkbenchError):
    """A model failed to load or run. ``node`` names the node when one is known."""

    def __init__(self, message: str, node: str | None = None):
        self.node = node
        super().__init__(f"node {node!r}: {message}" if node else message)


class BackendUnavailable(ModelError):
    pass


class DeviceUnavailable(ModelError):
    pass


class StepTimeout(ModelError):
    pass


class CapabilityUnavailable(ModelError):
    pass


class RemoteError(ModelError):
    """A remote host failed. ``host`` names it; ``failover_ok`` says whether another host may be tried
    (nothing was answered, so trying elsewhere cannot duplicate work the caller already saw)."""

    failover_ok = False

    def __init__(self, message: str, host: str, node: str | None = None):
        self.host = host
        super().__init__(f"host {host!r}: {message}", node)


class HostUnreachable(RemoteError):
    """No connection to the host, or it was lost before an answer. ``reason`` is the low-level error's name."""

    failover_ok = True

    def __init__(self, message: str, host: str, reason: str = "", node: str | None = None):
        self.reason = reason
        super().__init__(message, host, node)


class RemoteHTTPError(RemoteError):
    """The host answered with an error ``status`` (or 2xx with a body that is not JSON); ``snippet`` is the
    start of the body, tags and runs of whitespace removed."""

    def __init__(self, message: str, host: str, status: int, snippet: str = "", node: str | None = None):
        self.status, self.snippet = status, snippet
        super().__init__(message, host, node)

    @property
    def failover_ok(self) -> bool:
        return self.status in (404, 429) or self.status >= 500


class StreamBroken(RemoteError):
    """A body or stream stalled, broke off or carried an error event. ``partial`` is the text received so far
    as a Message whose meta has ``incomplete: True`` (or None when nothing came)."""

    def __init__(self, message: str, host: str, partial=None, node: str | None = None):
        self.partial = partial
        super().__init__(message, host, node)

    @property
    def failover_ok(self) -> bool:
        return not (self.partial is not None and self.partial.content)


class ConfigError(WorkbenchError):
    """A config file or option is malformed or unsafe; says which file or option and what was expected."""


class RunCancelled(WorkbenchError):
    pass


class StoreError(WorkbenchError):
    pass


class RunNotFound(StoreError, KeyError):
    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(f"no stored run matches {run_id!r}")

    __str__ = Exception.__str__
