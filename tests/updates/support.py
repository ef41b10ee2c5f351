"""A device for model-update tests: a real accelerator service with the real digits model, a stream at its fps,
and the real `ModelUpdater` on some link; plus the cloud side (keys, signed manifests, a pusher)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cloud_sync.models import (
    CloudLink,
    DeviceLink,
    Manifest,
    ModelPusher,
    ModelUpdatesConfig,
    Target,
    load_private_key,
    make_manifest,
    sign_manifest,
)
from cloud_sync.models.keys import generate_keys
from edge_runtime.engine._build import Submission
from edge_runtime.frames import Frame
from edge_runtime.inference import ModelConfig
from edge_runtime.jobs import Completed, Dropped, Job
from edge_runtime.plan import RuntimePlan
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig
from edge_runtime.updates import ModelUpdater, RecentFrames, load_models

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
DIGITS = MODELS / "digits_uint8.tflite"
DEVICE = "pi-test-01"
_IMAGES = np.load(MODELS / "digits_test.npz")["X_test"]


def digits_config() -> ModelConfig:
    labels = str(MODELS / "digits_labels.txt")
    return ModelConfig.model_validate(
        {"path": str(DIGITS), "labels": labels, "decoder": {"type": "classification", "top_k": 1}}
    )


def frame(seq: int) -> Frame:
    gray = cv2.resize(_IMAGES[seq % len(_IMAGES)], (32, 32), interpolation=cv2.INTER_NEAREST)
    return Frame("cam", seq, time.time(), time.monotonic(), cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))


@dataclass
class Cloud:
    """The cloud side: a trusted key, a key the device does not know, signed manifests."""

    tmp: Path
    key: Path = field(init=False)
    pub: Path = field(init=False)
    stranger: Path = field(init=False)

    def __post_init__(self) -> None:
        self.key, self.pub = generate_keys(self.tmp / "keys" / "fleet")
        self.stranger, _ = generate_keys(self.tmp / "keys" / "stranger")

    def manifest(self, path: Path, version: int, name: str = "digits", **kw: Any) -> tuple[Manifest, bytes]:
        data = path.read_bytes()
        kw.setdefault("target", Target(devices=(DEVICE,)))
        chunk_size = kw.pop("chunk_size", 16 * 1024)
        return make_manifest(name, version, data, chunk_size=chunk_size, **kw), data

    def sign(self, manifest: Manifest, key: Path | None = None) -> bytes:
        return sign_manifest(manifest, load_private_key(key or self.key))

    async def push(self, link: CloudLink, path: Path, version: int, timeout: float = 20.0, **kw: Any) -> dict[str, Any]:
        manifest, data = self.manifest(path, version, **kw)
        final = await ModelPusher(link, retry=1.0).push(self.sign(manifest), manifest, data, timeout=timeout)
        return final.get(DEVICE, {})


class Device:
    """The real runtime parts a push touches, and a stream submitting frames at `fps`.

    `supersede=False` makes the stream back-pressured like a file source: every frame it submits runs (none is
    replaced by a newer one when the machine is slow), so any drop is the update's doing."""

    def __init__(
        self, tmp: Path, cloud: Cloud, link: DeviceLink, fps: float = 30.0, budget: RuntimePlan | None = None,
        *, supersede: bool = True, **updates: Any,
    ) -> None:  # fmt: skip
        updates.setdefault("trusted_keys", [cloud.pub])
        updates.setdefault("dir", tmp / "store")
        updates.setdefault("need_timeout", 0.5)
        updates.setdefault("health", {"duration": 3.0, "window": 10})
        self.config = ModelUpdatesConfig.model_validate(updates)
        self.accel = AcceleratorConfig(threads=1)
        self.models = {"digits": digits_config()}
        self.service = AcceleratorService(self.accel, load_models(self.models, self.accel, tmp, self.config))
        self.frames = RecentFrames()
        self.updater = ModelUpdater(
            service=self.service, models=self.models, accel=self.accel, base_dir=tmp, config=self.config,
            frames=self.frames, link=link, device=DEVICE, budget=budget,
        )  # fmt: skip
        self.fps = fps
        self.supersede = supersede
        self.outcomes: list[tuple[float, Completed | Dropped]] = []  # (monotonic time resolved, outcome)
        submission = Submission(self.service)
        submission.hook(self.frames.keep)
        self.submit = submission.submit

    @property
    def sha256(self) -> str:
        return self.service.model("digits").ref.sha256

    def completed(self) -> list[Completed]:
        return [o for _, o in self.outcomes if isinstance(o, Completed)]

    def dropped(self) -> list[Dropped]:
        return [o for _, o in self.outcomes if isinstance(o, Dropped)]

    async def _stream(self) -> None:
        self.service.register_stream("cam", "normal", supersede=self.supersede)
        pending: list[asyncio.Future[Any]] = []
        seq = 0
        while True:
            future = self.submit(Job("digits", frame(seq)))
            future.add_done_callback(lambda f: self.outcomes.append((time.monotonic(), f.result())))
            pending.append(future)
            seq += 1
            await asyncio.sleep(1 / self.fps)

    @contextlib.asynccontextmanager
    async def running(self, stream: bool = True) -> AsyncIterator[Device]:
        async with self.service:
            tasks = [asyncio.create_task(self.updater.run(), name="updater")]
            if stream:
                tasks.append(asyncio.create_task(self._stream(), name="stream"))
            try:
                await asyncio.sleep(0.2)
                yield self
            finally:
                for task in reversed(tasks):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


async def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
