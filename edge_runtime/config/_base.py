"""The base every config model derives from: frozen, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config section: immutable after load, and a misspelt key is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)
