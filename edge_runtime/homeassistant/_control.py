"""Control topics: `<prefix>/<device>/<stream>/detect/set` (ON/OFF) and `.../fps/set` (a number, bounded by the
stream's configured fps). Each accepted command is applied to the stream's `StreamControl`, echoed (retained) on
its `state` topic and kept in a small JSON file so it survives a restart. A bad payload changes nothing: one log
line, one count (`rejected`).
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from edge_runtime.control import StreamControl
from edge_runtime.drops import DropCounter
from edge_runtime.homeassistant._discovery import OFF, ON

log = logging.getLogger(__name__)
MAX_PAYLOAD = 32  # bytes: ON, OFF or a number
MAX_STATE_FILE = 64 * 1024


class ControlError(ValueError):
    """A command payload that is not accepted (the message names why)."""


def parse_detect(payload: bytes) -> bool:
    text = _text(payload).upper()
    if text not in (ON, OFF):
        raise ControlError(f"expected ON or OFF (got {text[:MAX_PAYLOAD]!r})")
    return text == ON


def parse_fps(payload: bytes) -> float:
    text = _text(payload)
    try:
        fps = float(text)
    except ValueError:
        raise ControlError(f"expected a number of frames per second (got {text!r})") from None
    if not math.isfinite(fps) or fps <= 0:
        raise ControlError(f"fps must be a finite number > 0 (got {text!r})")
    return fps


def _text(payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD:
        raise ControlError(f"payload of {len(payload)} bytes (at most {MAX_PAYLOAD})")
    try:
        return payload.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ControlError("payload is not ASCII text") from None


class ControlState:
    """Applies commands to the controls and keeps them in `path` (written atomically, read once at start)."""

    def __init__(self, controls: dict[str, StreamControl], path: Path) -> None:
        self.controls = controls
        self.path = path
        self.rejected = DropCounter()

    def restore(self) -> None:
        """Apply what the file kept for streams that still exist; an unreadable file is logged and ignored."""
        try:
            if not self.path.exists():
                return
            if self.path.stat().st_size > MAX_STATE_FILE:
                raise ValueError(f"larger than {MAX_STATE_FILE} bytes")
            saved = json.loads(self.path.read_text())
            for name, state in saved.get("streams", {}).items():
                if name in self.controls:
                    self._restore_one(self.controls[name], state)
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            log.warning("%s: control state not restored: %s", self.path, exc)

    @staticmethod
    def _restore_one(control: StreamControl, state: dict[str, Any]) -> None:
        control.set_detect(bool(state.get("detect", True)))
        fps = state.get("fps")
        control.set_fps(float(fps) if isinstance(fps, (int, float)) and fps > 0 else None)

    def apply(self, stream: str, what: str, payload: bytes) -> bool:
        """True when the command was accepted and applied."""
        control = self.controls.get(stream)
        try:
            if control is None:
                raise ControlError("no such stream")
            if what == "detect":
                control.set_detect(parse_detect(payload))
            else:
                control.set_fps(parse_fps(payload))
        except ControlError as exc:
            self.rejected.add(what)
            log.warning("control %s/%s/set ignored: %s", stream, what, exc)
            return False
        return True

    def snapshot(self) -> dict[str, Any]:
        return {"streams": {name: {"detect": c.detect, "fps": c.fps} for name, c in self.controls.items()}}

    def save(self, snapshot: dict[str, Any]) -> None:
        """Write the file atomically (call off the event loop)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(snapshot))
        os.replace(tmp, self.path)


def detect_state(control: StreamControl) -> bytes:
    return (ON if control.detect else OFF).encode()


def fps_state(control: StreamControl) -> bytes:
    fps = control.fps if control.fps is not None else control.max_fps
    return b"" if fps is None else f"{fps:g}".encode()
