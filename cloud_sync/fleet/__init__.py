"""The fleet: a registry of devices built from what they publish, read from the ingest database."""

from cloud_sync.fleet.registry import Device, active_models, assign, devices, table

__all__ = ["Device", "active_models", "assign", "devices", "table"]
