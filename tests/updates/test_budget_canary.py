"""The budget-aware canary over a real mosquitto: a pushed model much slower than the active one serves when
the runtime's plan still fits every stream using it, and is rejected, naming the stream and its budget, when not."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

from cloud_sync.models import ModelPusher
from edge_runtime.config import AcceleratorConfig, RuntimeConfig
from edge_runtime.inference import load_model
from edge_runtime.plan import RuntimePlan, measure_handle
from tests.support.mosquitto import Mosquitto
from tests.updates.support import DEVICE, MODELS, Cloud, Device, digits_config, wait_for
from tests.updates.test_mqtt_push import links

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]
SLOW = MODELS / "test_slow.tflite"


def runtime_plan(tmp: Path, fps: float, deadline_ms: float) -> RuntimePlan:
    """The plan of a device whose one stream `cam` runs the digits model at `fps` with this budget."""
    config = RuntimeConfig.model_validate({
        "accelerator": {"threads": 1},
        "models": {"digits": digits_config().model_dump(exclude_none=True)},
        "streams": {"cam": {
            "source": {"type": "synthetic", "fps": fps}, "priority": "normal", "deadline_ms": deadline_ms,
            "pipeline": [{"type": "infer", "model": "digits"}], "sinks": [],
        }},
    })  # fmt: skip
    return RuntimePlan(config, tmp, tmp / "plan")


async def push_slow(tmp: Path, mosquitto: Mosquitto, fps: float, plan: RuntimePlan) -> tuple[Device, dict[str, Any]]:
    cloud = Cloud(tmp)
    async with links(mosquitto) as (device_link, cloud_link):
        device = Device(tmp, cloud, device_link, fps=fps, budget=plan)
        seen: list[dict[str, Any]] = []
        async with device.running():
            await wait_for(lambda: len(device.completed()) >= 5, 5, "the stream to run")
            manifest, data = cloud.manifest(SLOW, version=2)
            pusher = ModelPusher(cloud_link, on_status=seen.append)
            final = dict(await pusher.push(cloud.sign(manifest), manifest, data, timeout=20))
            final["canary"] = next((s for s in seen if s["state"] == "canary"), {})
            count = len(device.completed())
            await wait_for(lambda: len(device.completed()) > count + 5, 5, "results after the push")
    return device, final


def test_a_model_5x_slower_but_inside_the_budget_is_accepted_and_serves(tmp_path: Path, mosquitto: Mosquitto) -> None:
    plan = runtime_plan(tmp_path, fps=10, deadline_ms=100)

    async def scenario() -> None:
        device, final = await push_slow(tmp_path, mosquitto, 10, plan)
        assert final[DEVICE]["state"] == "active", final
        canary = final["canary"]
        assert canary["median_ms"] >= 5 * canary["baseline_ms"], canary  # the premise: 5x slower or more
        print(f"\naccepted: canary median {canary['median_ms']:.3f} ms vs active {canary['baseline_ms']:.3f} ms,"
              f" p99 {canary['service_p99_ms']:.3f} ms, budget 100 ms at 10 fps")  # fmt: skip
        slow = device.service.model("digits").ref.sha256
        served = [o.model.sha256 for o in device.completed()]
        assert served[0] != slow  # the stream ran on the old model, then serves on the new one
        assert served[-1] == slow

    asyncio.run(scenario())


def test_a_model_that_breaks_a_30_fps_streams_budget_is_rejected_and_the_old_serves(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    # The budget lies between the two models' measured service times, so the active model fits it and the
    # pushed one cannot (figures printed): the test is about the rule, on whatever machine runs it.
    active = runtime_plan(tmp_path, fps=30, deadline_ms=1000).times()["digits"]
    handle = load_model("digits", digits_config().model_copy(update={"path": SLOW}), AcceleratorConfig(threads=1),
                        tmp_path)  # fmt: skip
    slow = measure_handle(handle.instantiate(), handle.model.plan.tensor.shape, 0.5)
    budget_ms = math.sqrt(active.p99_s * slow.median_s) * 1e3
    print(f"\nactive p99 {active.p99_s * 1e3:.3f} ms, pushed median {slow.median_s * 1e3:.3f} ms:"
          f" budget {budget_ms:.3f} ms")  # fmt: skip
    assert active.p99_s * 1e3 < budget_ms < slow.median_s * 1e3
    plan = runtime_plan(tmp_path, fps=30, deadline_ms=budget_ms)

    async def scenario() -> None:
        device, final = await push_slow(tmp_path, mosquitto, 30, plan)
        assert final[DEVICE]["state"] == "rejected", final
        reason = final[DEVICE]["reason"]
        assert reason.startswith(f"canary: stream 'cam' (30 fps, budget {budget_ms:.1f} ms) would break"), reason
        served = [o.model.sha256 for o in device.completed()]
        assert len(set(served)) == 1  # the old model kept serving, before and after
        assert device.service.model("digits").ref.sha256 == served[0]

    asyncio.run(scenario())
