"""A real HTTP server that is not a workbench host, for the host form's faults: run as ``python oddhost.py``.

    GET /slow/…   accepts the request and never answers (a host that hangs)
    GET …         200 with an HTML page (a web site, a login page, a proxy's notice)

It prints ``port N`` once listening; stop it with SIGTERM.
"""
from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = b"<!doctype html><html><head><title>Welcome</title></head><body><h1>Welcome to nginx!</h1></body></html>"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        if self.path.startswith("/slow/"):
            time.sleep(3600)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()
