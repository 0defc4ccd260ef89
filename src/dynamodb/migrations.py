"""``dynamodb.migrations``: data migrations from Python (what ``dynamodb-py migrate`` runs).

``run_pending(load_migrations("migrations"), connection)`` runs the folder's
pending migrations in order; :class:`MigrationRunner` runs one as one worker;
:func:`migration_status` says which are applied. Not imported by ``import dynamodb``.
"""

from __future__ import annotations

from dynamodb.models.migrations import *  # noqa: F403 - this module is their public path
from dynamodb.models.migrations import __all__ as __all__
