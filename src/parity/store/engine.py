"""Engine creation, error translation and migrations: the only place that knows which backend is in use.

The repository code is one code path for SQLite and PostgreSQL; the differences live here, as engine options:

- SQLite: the parent folder is created, WAL journaling (readers never block the writer), foreign keys on,
  a busy timeout (a second writer waits instead of failing), and SQLAlchemy -- not the sqlite3 module -- emits
  BEGIN, so reads are transactional too and write transactions start with ``BEGIN IMMEDIATE`` (taking the write
  lock up front, which is what makes concurrent writers wait rather than fail with ``database is locked``).
- PostgreSQL: a connect timeout, so an unreachable server fails in seconds.

Every database error that reaches a caller becomes a one-line :class:`~parity.errors.ParityError` naming the
URL with its password masked.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from parity.errors import ParityError
from parity.store.tables import metadata

if TYPE_CHECKING:  # imported where a migration runs: a store at the newest revision needs none of it
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 60.0
PG_CONNECT_TIMEOUT_S = 10
# Alembic's ``op`` and ``context`` are process-wide proxies: two threads migrating at once would run each other's
# operations on each other's connections. Migrations in one process therefore take turns.
_ALEMBIC_LOCK = Lock()
# Execution option that marks a connection as a writer (SQLite: BEGIN IMMEDIATE; elsewhere: no effect).
WRITE = "parity_write"


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL, or a ParityError saying why ``url`` is not one."""
    try:
        return _userinfo_to_last_at(sa.make_url(url))
    except (sa.exc.ArgumentError, ValueError) as e:
        raise ParityError(
            f"invalid store URL {mask_text(url)!r}: expected sqlite:///PATH or postgresql+psycopg://..."
        ) from e


def _userinfo_to_last_at(url: URL) -> URL:
    """SQLAlchemy ends the password at the first "@", so an unencoded "@" in a password put the rest of it
    into the host: shown unmasked in every error, and the wrong host dialled. A host never holds "@":
    the user-info ends at the last one."""
    host = url.host
    if not host or "@" not in host:
        return url
    extra, _, real_host = host.rpartition("@")
    if url.password is not None:
        return url.set(password=f"{url.password}@{extra}", host=real_host)
    return url.set(username=f"{url.username or ''}@{extra}", host=real_host)


def mask_text(url: str) -> str:
    """``url`` with any password hidden, even when it does not parse."""
    try:
        return _userinfo_to_last_at(sa.make_url(url)).render_as_string(hide_password=True)
    except Exception:  # unparsable: hide everything between "://user:" and "@"
        head, sep, rest = url.partition("://")
        if not sep or "@" not in rest:
            return url
        cred, _, host = rest.rpartition("@")
        user = cred.split(":", 1)[0]
        return f"{head}://{user}:***@{host}"


def one_line(error: BaseException) -> str:
    """The first line of a driver error, without SQLAlchemy's statement/parameter dump."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


@contextmanager
def translated(masked_url: str) -> Iterator[None]:
    """Turn database errors into one-line ParityErrors naming the (masked) store URL."""
    try:
        yield
    except sa.exc.DBAPIError as e:
        raise ParityError(f"store {masked_url}: {one_line(e)}") from e
    except sa.exc.NoSuchModuleError as e:
        raise ParityError(f"store {masked_url}: unsupported database driver ({one_line(e)})") from e


def create_engine(url: URL) -> Engine:
    """An engine for ``url`` with the per-backend options described in the module docstring."""
    masked = url.render_as_string(hide_password=True)
    options: dict[str, Any] = {}
    backend = url.get_backend_name()
    if backend == "sqlite":
        _prepare_sqlite_path(url, masked)
        options["connect_args"] = {"timeout": BUSY_TIMEOUT_S}
    elif backend == "postgresql":
        options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    with translated(masked):
        try:
            engine = sa.create_engine(url, **options)
        except sa.exc.ArgumentError as e:
            raise ParityError(f"store {masked}: {one_line(e)}") from e
        except (ValueError, TypeError) as e:  # a query option the driver cannot convert (?timeout=abc)
            raise ParityError(f"store {masked}: invalid option in the URL ({e})") from e
        except ImportError as e:  # e.g. postgresql+psycopg2:// without psycopg2 installed
            raise ParityError(f"store {masked}: database driver not installed ({e.name or e})") from e
    if backend == "sqlite":
        _sqlite_events(engine)
    return engine


def _prepare_sqlite_path(url: URL, masked: str) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    try:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    except RuntimeError as e:  # ~user of a user that does not exist
        raise ParityError(f"store {masked}: cannot find the home folder in {database!r}") from e
    except OSError as e:
        raise ParityError(f"store {masked}: cannot create its folder: {e.strerror or e}") from e


def _wal(cursor: Any) -> None:
    """Switch the database to WAL, waiting out other connections. SQLite does not call its busy handler
    for this switch: a second process opening a new store while the first holds a lock failed at once
    with "database is locked" (4 rounds in 100 of four at a time: tests/stress_store_open.py). Once the file
    is in WAL the check alone answers, without a lock."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _sqlite_events(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_begin)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe with WAL
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


# ---------------------------------------------------------------- migrations


# The newest schema revision, the head of migrations/versions (tests/test_store_engine.py holds the two
# equal). A store already there is recognised by one query, without importing Alembic: 0.15 s of every
# command's start-up.
HEAD_REVISION = "0002_alert_outbox"


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def _scripts() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return ScriptDirectory.from_config(cfg)


def _heads() -> set[str]:
    return set(_scripts().get_heads())


def _refuse_unknown(current: set[str], masked_url: str) -> None:
    """A revision this parity has no script for was written by a newer parity: upgrading from it is
    impossible and Alembic would fail with "Can't locate revision"; say what to do instead."""
    known = {rev.revision for rev in _scripts().walk_revisions()}
    unknown = sorted(current - known)
    if unknown:
        raise ParityError(
            f"store {masked_url}: created by a newer parity (schema revision {', '.join(unknown)}); upgrade parity"
        )


def _refuse_foreign(conn: Connection, masked_url: str) -> None:
    """A database with no parity revision that already holds a table of parity's name is someone else's:
    creating the schema failed with a bare "table scans already exists"; say what it is instead. The revision
    is read again after the tables: another parity creating the store commits both at once, so tables seen
    with a revision are that migration, just committed (PostgreSQL's statements each see the latest)."""
    taken = sorted(set(sa.inspect(conn).get_table_names()) & set(metadata.tables))
    if taken and not _recorded(conn):
        raise ParityError(
            f"store {masked_url}: not a parity store: it holds table(s) {', '.join(taken)} that parity did not "
            "create (no parity schema revision); point store: at a new database"
        )


def _recorded(connection: Connection) -> set[str]:
    """The revisions the store's ``alembic_version`` table holds (what Alembic reads as the current heads),
    none without the table."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return set()
    return {str(row[0]) for row in connection.execute(sa.text("SELECT version_num FROM alembic_version"))}


def migrate(engine: Engine, masked_url: str) -> None:
    """Bring the schema to the newest revision; a cheap no-op when it is there already.

    Concurrent callers are safe: SQLite writers are serialised by ``BEGIN IMMEDIATE``; on PostgreSQL the loser
    of a race fails on the catalog, finds the schema at head on a second look and returns.
    """
    with translated(masked_url):
        with engine.connect() as conn:
            current = _recorded(conn)
        if current == {HEAD_REVISION}:
            return
        heads = _heads()  # imports Alembic: long enough for another process to finish migrating meanwhile
        with engine.connect() as conn:
            current = _recorded(conn)
            if current == heads:
                return
            _refuse_unknown(current, masked_url)
            if not current:
                _refuse_foreign(conn, masked_url)
        try:
            with _ALEMBIC_LOCK, engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
                current = _recorded(conn)
                if current != heads:
                    _refuse_unknown(current, masked_url)
                    from alembic import command

                    command.upgrade(_alembic_config(conn), "head")
        except sa.exc.DBAPIError:
            with engine.connect() as conn:
                if _recorded(conn) == heads:
                    return  # another process migrated concurrently
            raise
