"""Alembic environment for the parity store.

Run only programmatically (:func:`parity.store.engine.migrate`): the caller passes its own open connection in
``config.attributes["connection"]`` and commits; no ``alembic.ini`` and no logging configuration are needed.
"""

from __future__ import annotations

from alembic import context

from parity.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("parity's migrations run through parity.store.Store.migrate(), not the alembic command")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
