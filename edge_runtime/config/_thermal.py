"""The `thermal:` section: read the device's temperature and throttle flags, and shed the lowest classes first."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from edge_runtime.sections import StrictModel

SheddableClass = Literal["normal", "low"]  # high and critical keep their rate while anything lower can be shed


def _lowest() -> list[SheddableClass]:
    return ["low"]


class StateActions(StrictModel):
    """What a thermal state does to the streams of `classes` (the lowest classes: `normal`, `low`)."""

    fps_factor: float = Field(1.0, ge=0.0, le=1.0, description="Share of their frames still run (0: paused).")
    classes: list[SheddableClass] = Field(default_factory=_lowest, description="Classes it applies to.")
    pause_low: bool = Field(False, description="Pause `low` streams altogether (whatever fps_factor says).")
    lanes: int | None = Field(
        None, ge=1, le=16, description="Run on only this many lanes (reserved lanes kept first); null: all."
    )
    threads: int | None = Field(
        None, ge=1, le=64,
        description="Interpreter threads at most (lanes rebuild their interpreters, like a model swap); null: as "
        "configured.",
    )  # fmt: skip


class ThermalConfig(StrictModel):
    sysfs_root: Path = Field(Path("/sys"), description="Where sysfs is (tests and containers point it elsewhere).")
    interval_s: float = Field(2.0, gt=0, le=600, description="How often the sensors are read.")
    warm_c: float = Field(70.0, description="Hottest zone at or above this: warm.")
    hot_c: float = Field(80.0, description="Hottest zone at or above this: hot.")
    hysteresis_c: float = Field(5.0, ge=0, description="A state is left only this far below its threshold.")
    warm: StateActions = Field(default_factory=lambda: StateActions(fps_factor=0.5))
    hot: StateActions = Field(default_factory=lambda: StateActions(fps_factor=0.25, classes=["low", "normal"]))

    @model_validator(mode="after")
    def _ordered(self) -> ThermalConfig:
        if self.hot_c <= self.warm_c:
            raise ValueError(f"hot_c ({self.hot_c:g}) must be above warm_c ({self.warm_c:g})")
        return self


ThermalState = Literal["normal", "warm", "hot"]
