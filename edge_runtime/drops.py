"""Drop counters: every frame or result that is not delivered is counted with a reason."""

from __future__ import annotations

from cloud_sync.counters import Drops

# The reasons the runtime uses; a stage may add its own, named after what it does.
FPS_CAP = "fps_cap"  # the source read a frame faster than the configured fps
SUPERSEDED = "superseded"  # a newer frame of the same stream replaced this one while it waited
STALE = "stale"  # past its deadline at dispatch: never run
QUEUE_FULL = "queue_full"  # a bounded queue was full
ERROR = "error"  # the stage or model failed on this item
SHUTDOWN = "shutdown"  # still queued when the runtime stopped
OUTBOX_FULL = "outbox_full"
STUCK = "stuck"  # ran past the watchdog's limit on a lane; the lane was replaced
THERMAL = "thermal"  # shed by the thermal section (a warm or hot device runs fewer frames of low classes)


# One thread-safe counter by reason serves the runtime and the cloud link (cloud_sync cannot import the runtime).
DropCounter = Drops
SINK_FAILED = "sink_failed"  # the sink could not open at start: what it is sent is counted, never written
