"""Ingest: device messages from a broker (shared subscription) into SQLite or PostgreSQL, exactly once per key."""

from cloud_sync.ingest._rows import MAX_BYTES, classify
from cloud_sync.ingest._schema import VERSION, SchemaError
from cloud_sync.ingest._store import Store, Written, open_store
from cloud_sync.ingest._worker import SharedSource, Totals, ingest

__all__ = ["MAX_BYTES", "VERSION", "SchemaError", "SharedSource", "Store", "Totals", "Written", "classify", "ingest",
           "open_store"]
