"""Shared fixtures. The store runs on SQLite always and on the machine's PostgreSQL when reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.redact import Redactor

CORPUS = Path(os.environ.get("PARITY_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))
PG_ADMIN_URL = os.environ.get("PARITY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(b"parity-tests-fixed-key-0123456789")


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else why not (the skip reason)."""
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(sa.text("select 1"))
        eng.dispose()
        return None
    except Exception as e:  # any failure means "not reachable": report it as the skip reason
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(e).__name__}: {str(e).splitlines()[0]}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'parity.db'}"
        return
    why = _pg_available()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(why + " (CI always has PostgreSQL)")
        pytest.skip(why)
    import sqlalchemy as sa

    name = f"parity_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
