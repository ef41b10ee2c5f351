"""At start-up: serve the version that was active before the restart (or the configured one)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from cloud_sync.models import ModelStore, ModelUpdatesConfig
from edge_runtime.inference import ModelConfig, ModelError, TfliteModelHandle, load_model
from edge_runtime.sections import AcceleratorConfig
from edge_runtime.updates._checks import UpdateRejected, config_for

log = logging.getLogger("edge_runtime.updates")


def load_models(
    models: Mapping[str, ModelConfig], accel: AcceleratorConfig, base_dir: Path, config: ModelUpdatesConfig | None
) -> dict[str, TfliteModelHandle]:
    """Load every model: the store's active version when there is a good one, else the configured file.

    The pointer only ever names a complete, checked file (it is replaced atomically after the file is in
    place), and the file's SHA-256 is checked again here; a version that fails now falls back to the config.
    A configured model that fails to load raises ModelError as usual.
    """
    store = ModelStore(base_dir / config.dir) if config is not None else None
    if store is not None:
        store.clean_staging()
    handles = {}
    for name, model in models.items():
        stored = store.active(name) if store is not None else None
        if stored is not None:
            try:
                handles[name] = load_model(name, config_for(model, stored), accel, base_dir, stored.version)
                log.info("model %r: serving v%d from the model store", name, stored.version)
                continue
            except (ModelError, UpdateRejected) as exc:
                log.warning("model %r: stored v%d unusable (%s); serving the config's", name, stored.version, exc)
        handles[name] = load_model(name, model, accel, base_dir, model.version)
    return handles
