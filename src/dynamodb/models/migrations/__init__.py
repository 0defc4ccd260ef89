"""Data migrations: files, the resumable distributed runner, status.

See :mod:`dynamodb.models.migrations.runner` for how a migration runs, and
:mod:`dynamodb.models.migrations.files` for what a migration file holds.
"""

from __future__ import annotations

from dynamodb.models.migrations.files import Migration, load_migrations
from dynamodb.models.migrations.runner import (
    MARKER,
    MIGRATIONS_TABLE,
    Counts,
    MigrationResult,
    MigrationRunner,
    MigrationStatus,
    amigration_status,
    arun_pending,
    migration_status,
    run_pending,
)

__all__ = [
    "MARKER",
    "MIGRATIONS_TABLE",
    "Counts",
    "Migration",
    "MigrationResult",
    "MigrationRunner",
    "MigrationStatus",
    "amigration_status",
    "arun_pending",
    "load_migrations",
    "migration_status",
    "run_pending",
]
