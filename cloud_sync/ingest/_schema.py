"""The ingest database's schema, its version, and the migrations that bring a database to it.

The SQL is written once with ``?`` placeholders and ``{id}``/``{json}``/``{blob}`` types; a `Dialect` turns it
into SQLite's or PostgreSQL's. Version 1: results, events and stats (each UNIQUE on device, boot_id, stream,
seq), devices, model_status, rejected. Version 2: rollouts and rollout_devices.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    id_type: str
    json_type: str
    blob_type: str
    json_param: str  # how a JSON text parameter is written in a statement
    param: str

    def sql(self, text: str) -> str:
        text = text.replace("{id}", self.id_type).replace("{json}", self.json_type).replace("{blob}", self.blob_type)
        return text.replace("?::json", self.json_param).replace("?", self.param)


SQLITE = Dialect("sqlite", "INTEGER PRIMARY KEY", "TEXT", "BLOB", "?", "?")
POSTGRES = Dialect("postgresql", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "JSONB", "BYTEA", "%s::jsonb",
                   "%s")

KEYED_TABLES = ("results", "events", "stats")


def _keyed_table(name: str) -> str:
    return f"""CREATE TABLE {name} (
        id {{id}}, device TEXT NOT NULL, boot_id TEXT NOT NULL, stream TEXT NOT NULL, seq BIGINT NOT NULL,
        kind TEXT NOT NULL, ts_result DOUBLE PRECISION, received_at DOUBLE PRECISION NOT NULL,
        payload {{json}} NOT NULL, UNIQUE (device, boot_id, stream, seq))"""


MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # version 1
        *(_keyed_table(name) for name in KEYED_TABLES),
        """CREATE TABLE devices (
            device TEXT PRIMARY KEY, grp TEXT, online INTEGER, status_at DOUBLE PRECISION,
            last_seen DOUBLE PRECISION, boot_id TEXT, outbox_depth BIGINT, uplink_drops BIGINT)""",
        """CREATE TABLE model_status (
            id {id}, device TEXT NOT NULL, push_id TEXT NOT NULL, name TEXT NOT NULL, version INTEGER,
            state TEXT NOT NULL, reason TEXT NOT NULL, received_at DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX model_status_device ON model_status (device, id)",
        """CREATE TABLE rejected (
            id {id}, topic TEXT NOT NULL, reason TEXT NOT NULL, size INTEGER NOT NULL, head {blob} NOT NULL,
            received_at DOUBLE PRECISION NOT NULL)""",
    ),
    (  # version 2: staged rollouts, kept so an interrupted one resumes
        """CREATE TABLE rollouts (
            rollout TEXT PRIMARY KEY, grp TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
            sha256 TEXT NOT NULL, waves TEXT NOT NULL, wave INTEGER NOT NULL, state TEXT NOT NULL,
            reason TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE rollout_devices (
            rollout TEXT NOT NULL, device TEXT NOT NULL, wave INTEGER NOT NULL, state TEXT NOT NULL,
            reason TEXT NOT NULL, PRIMARY KEY (rollout, device))""",
    ),
)
VERSION = len(MIGRATIONS)


class SchemaError(ValueError):
    """The database's schema is newer than this tool knows."""


def pending(current: int) -> list[tuple[int, tuple[str, ...]]]:
    """The migrations (version, statements) that bring a database at `current` to VERSION."""
    if current > VERSION:
        raise SchemaError(f"the database's schema version {current} is newer than this edge-cloud's ({VERSION})")
    return [(index + 1, MIGRATIONS[index]) for index in range(current, VERSION)]
