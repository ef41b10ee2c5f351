"""The device's model-update settings (`cloud.models:` in the device config). Validation does no I/O."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloud_sync.config import ByteSize, Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CanaryConfig(_Strict):
    """Before the swap: the new model runs on the stream's recent frames next to the active one."""

    frames: int = Field(8, ge=0, le=256, description="Recent frames to run (0: no canary runs, no baseline).")
    latency_factor: float | None = Field(
        None,
        gt=1.0,
        description="An extra guard: refuse a model whose median run time exceeds this many times the active one's "
        "(plus latency_slack_ms); null (the default): only the streams' budgets in the runtime's plan count.",
    )
    latency_slack_ms: float = Field(1.0, ge=0.0, description="Absolute allowance added to the latency budgets.")


class HealthConfig(_Strict):
    """After the swap: watch the new model in service; past a limit, roll back automatically."""

    duration: Duration = Field(30.0, ge=0, description="How long to watch after the swap (e.g. 30s; 0: no watch).")
    window: int = Field(20, ge=2, le=10000, description="Runs judged together (the most recent ones).")
    max_error_rate: float = Field(0.2, ge=0.0, le=1.0, description="Share of runs failing or giving non-finite output.")
    max_latency_factor: float | None = Field(
        None,
        gt=1.0,
        description="Roll back when the median run time over the window exceeds this multiple of the old model's "
        "at the canary; null (the default): run time is judged by the canary's plan, not as a ratio.",
    )


class ModelUpdatesConfig(_Strict):
    """Signed model pushes from the cloud: who is trusted, where versions live, how a new one proves itself."""

    trusted_keys: list[Path] = Field(
        default_factory=list, description="Ed25519 public keys (PEM) whose manifests are accepted; none: refuse all."
    )
    dir: Path = Field(Path("var/models"), description="The model store (versions and active.json per model).")
    groups: list[str] = Field(default_factory=list, description="Groups this device takes group pushes for.")
    max_bytes: ByteSize = Field(64 * 1024**2, gt=0, description="Largest model accepted (e.g. 64MiB), checked first.")
    window: int = Field(16, ge=1, le=1024, description="Chunks requested at a time (the transfer's flow control).")
    need_timeout: Duration = Field(2.0, gt=0, description="Ask again for requested chunks not seen for this long.")
    transfer_timeout: Duration = Field(120.0, gt=0, description="Give up a transfer that makes no progress this long.")
    canary: CanaryConfig = Field(default_factory=CanaryConfig, description="Checks before the swap.")
    health: HealthConfig = Field(default_factory=HealthConfig, description="Watch after the swap.")

    @model_validator(mode="before")
    @classmethod
    def _no_model_endpoint(cls, data: Any) -> Any:
        """The key of the former second ZeroMQ socket: refused with what to do instead."""
        if isinstance(data, dict) and "zmq_endpoint" in data:
            raise ValueError(
                "zmq_endpoint is gone: over ZeroMQ, model pushes travel on cloud.zmq.endpoint (the listener relays "
                "them: edge-cloud listen --relay-bind); remove the key"
            )
        return data
