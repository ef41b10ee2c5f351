"""A real, throwaway PostgreSQL cluster for the tests (the same helper the fleet benchmark uses)."""

from cloud_sync.fleet.pgcluster import Postgres

__all__ = ["Postgres"]
