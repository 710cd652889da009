"""Interconnection: serve this machine's models, use models served elsewhere, find who can do what.

    server.py      the host: FastAPI app on uvicorn (cards, invoke, SSE streams, health, security)
    openai_api.py  the OpenAI-compatible facade of a host (/v1/models, /v1/chat/completions, /v1/embeddings)
    local.py       the models a host serves: loaded once, invoked inline, in a thread or as coroutines
    client.py      the robust HTTP client (one deadline per step, careful retries, idle timer, typed errors)
    remote.py      remote backends: another workbench host (peer) and any OpenAI-compatible server
    remotes.py     the remotes config file ($WORKBENCH_HOME/remotes.yaml): peers and OpenAI endpoints
    discovery.py   fetching cards and health from the remotes; the health monitor
    connected.py   the connected catalog: local models, ``model@remote`` and ``cap:<capability>`` entries
    routing.py     who can do a capability, ranked; the capability model that fails over between hosts
    process.py     a host in a child process (tests, benchmarks, tutorials)
    cli.py         ``workbench host | peers | remote | capabilities``

Nothing here is imported by ``import workbench``; FastAPI, uvicorn and httpx load only when used.
"""
