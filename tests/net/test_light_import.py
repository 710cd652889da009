"""Importing the package or its CLI loads none of the network stack (FastAPI, uvicorn, httpx)."""
import subprocess
import sys

HEAVY = ("fastapi", "starlette", "uvicorn", "httpx", "httpx_sse", "pydantic")


def test_import_workbench_and_its_cli_stay_light():
    code = ("import sys, workbench, workbench.cli, workbench.net, workbench.net.cli; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
