"""Serve the generated site on 127.0.0.1 with the standard library's HTTP server."""

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from medallion_ibis.errors import ConfigurationError

HOST = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Requests are not logged: the site is static and local."""


def site_server(site_dir: Path, port: int) -> ThreadingHTTPServer:
    """A server for ``site_dir`` on ``127.0.0.1:port`` (port 0 picks a free one)."""
    if not (site_dir / "index.html").is_file():
        raise ConfigurationError(f"no site at {site_dir}: run `medallion-ibis docs generate` first")
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError as error:
        raise ConfigurationError(f"cannot serve on {HOST}:{port}: {error.strerror}") from None
