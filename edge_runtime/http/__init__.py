"""The embedded HTTP server: Prometheus `/metrics`, `/healthz`, `/readyz`, `/api/status`, frames, the console.

This package's top level holds only its config section (the config imports it, so it imports nothing of the
runtime); the runtime starts the server with `edge_runtime.http.serve.HttpService` (one of its services).
"""

from __future__ import annotations

from edge_runtime.http._config import HttpConfig

__all__ = ["HttpConfig"]
