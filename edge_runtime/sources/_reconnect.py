"""The reconnect settings every networked source shares (camera, mqtt): one config block, one Backoff."""

from __future__ import annotations

from pydantic import Field, model_validator

from cloud_sync.backoff import Backoff
from edge_runtime.sections import StrictModel


class ReconnectSettings(StrictModel):
    """Jittered exponential backoff between reconnect attempts (see `cloud_sync.backoff.Backoff`)."""

    backoff_initial: float = Field(0.5, gt=0, description="first reconnect delay (s), doubled per failure")
    backoff_max: float = Field(30.0, gt=0, description="cap of the reconnect delay (s)")

    @model_validator(mode="after")
    def _backoff_order(self) -> ReconnectSettings:
        if self.backoff_max < self.backoff_initial:
            raise ValueError(f"backoff_max ({self.backoff_max}) must be >= backoff_initial ({self.backoff_initial})")
        return self

    def backoff(self) -> Backoff:
        return Backoff(self.backoff_initial, self.backoff_max)
