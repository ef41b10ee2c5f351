"""`http:`: the embedded server (metrics, console, health). Loopback only unless the user says otherwise."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator, model_validator

from edge_runtime.sections import StrictModel

LOOPBACK_NAMES = ("localhost",)


class HttpConfig(StrictModel):
    enabled: bool = Field(True, description="Serve /metrics, /healthz, /readyz, /api/status and the console at /.")
    listen: str = Field("127.0.0.1:8080", description="HOST:PORT to listen on; a non-loopback host needs `token`.")
    token: str | None = Field(
        None, min_length=16, description="Bearer token every request must carry (Authorization: Bearer TOKEN)."
    )
    jpeg_fps: float = Field(
        5.0, gt=0, le=30, description="At most this many JPEG encodes per second per stream, only while watched."
    )
    jpeg_quality: int = Field(75, ge=10, le=95, description="JPEG quality of the console's frames.")
    link_down_s: float = Field(60.0, gt=0, description="/healthz fails when the cloud link is down this long.")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"must be HOST:PORT, e.g. 127.0.0.1:8080 (got {value!r})")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def url(self) -> str:
        """Where the console is (a wildcard host shown as 127.0.0.1)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://[{host}]:{self.port}/" if ":" in host else f"http://{host}:{self.port}/"

    @model_validator(mode="after")
    def _token_off_loopback(self) -> HttpConfig:
        if self.enabled and self.token is None and not is_loopback(self.host):
            raise ValueError(f"listen {self.listen!r} is not loopback: set http.token (16+ characters)")
        return self


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: treated as reachable from outside
