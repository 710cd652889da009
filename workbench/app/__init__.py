"""The workbench app: the live network as a graph editor, a run panel and step-by-step traces (Panel).

Components are small ``param``/``Viewer`` classes, usable on their own (a JupyterLab notebook can show any
of them) and composed per browser session by :class:`workbench.app.session.Workbench`:

- :mod:`~workbench.app.graph`      ``GraphView``  the network as a React Flow canvas: drag to link, delete
- :mod:`~workbench.app.palette`    ``Palette``    the models of the catalog, click to add
- :mod:`~workbench.app.inspector`  ``Inspector``  the selected model or pathway
- :mod:`~workbench.app.hosts`      ``HostForm``   connect a remote host or OpenAI-compatible endpoint;
                                   ``HostList``   the connected hosts, their health, remove
- :mod:`~workbench.app.connections` ``Hosts``     the connected catalog every session shares (remotes.yaml)
- :mod:`~workbench.app.runpanel`   ``RunPanel``   protocol, input, run / cancel, streamed tokens
- :mod:`~workbench.app.trace`      ``TraceView``  steps, timeline, step-through replay on the graph
- :mod:`~workbench.app.history`    ``History``    stored runs, reopenable
- :mod:`~workbench.app.server`     ``serve``      what ``workbench up`` starts

Importing this package loads no Panel; the submodules do.
"""
