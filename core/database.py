"""The database a command needs: set up, or the command stops saying what to run (never a raw `no such table`)."""
from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor

SET_UP = "run `python manage.py setup` first (`make run` does it), then this command again"


def require_database(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Stop with a CommandError when the database cannot be reached or is missing migrations."""
    connection = connections[alias]
    where = connection.settings_dict.get("NAME")
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except OperationalError as exc:
        raise CommandError(f"cannot reach the database {where} ({exc}): check DATABASE_URL, or start the "
                           f"server; on a new machine {SET_UP}") from None
    if pending:
        first = pending[0][0]
        raise CommandError(f"the database {where} is not set up: {len(pending)} migration(s) not applied (the first "
                           f"is {first.app_label}.{first.name}); {SET_UP}")
