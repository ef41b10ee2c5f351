"""The embedded HTTP server: Prometheus `/metrics`, `/healthz`, `/readyz`, `/api/status`, frames, the console."""

from edge_runtime.http._config import HttpConfig

__all__ = ["HttpConfig"]
