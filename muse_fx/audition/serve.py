"""Serving a page folder on 127.0.0.1, on a free port, for browsers set up to refuse file:// pages."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # one line per request would bury the URL the user needs
        pass


def page_server(folder: Path) -> ThreadingHTTPServer:
    """A server for `folder` on 127.0.0.1 only (nothing else on the network sees it); call serve_forever()."""
    return ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))


def page_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/index.html"
