"""Opening a store from URLs and schemas parity cannot use: one-line ParityErrors, passwords masked whole."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from parity.errors import ParityError
from parity.store import Store
from parity.store.engine import mask_text, parse_url


def test_store_created_by_a_newer_parity_is_refused(store_url: str) -> None:
    s = Store(store_url)
    s.migrate()
    s.close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("update alembic_version set version_num = '0099_future'"))
    engine.dispose()
    s = Store(store_url)
    try:
        with pytest.raises(ParityError) as info:
            s.migrate()
        assert str(info.value) == (
            f"store {s.url}: created by a newer parity (schema revision 0099_future); upgrade parity"
        )
    finally:
        s.close()


@pytest.mark.parametrize(
    ("url", "masked", "user", "password", "host"),
    [
        ("postgresql+psycopg://u:s3k@r1tx@127.0.0.1:1/db", "postgresql+psycopg://u:***@127.0.0.1:1/db", "u",
         "s3k@r1tx", "127.0.0.1"),
        ("postgresql+psycopg://u:a@b@c@h/db", "postgresql+psycopg://u:***@h/db", "u", "a@b@c", "h"),
        ("postgresql+psycopg://u:plain@h/db", "postgresql+psycopg://u:***@h/db", "u", "plain", "h"),
        ("postgresql+psycopg://me@corp@h/db", "postgresql+psycopg://me%40corp@h/db", "me@corp", None, "h"),
    ],
)  # fmt: skip
def test_password_holding_at_signs_ends_at_the_last_one(
    url: str, masked: str, user: str, password: str | None, host: str
) -> None:
    assert mask_text(url) == masked
    parsed = parse_url(url)
    assert (parsed.username, parsed.password, parsed.host) == (user, password, host)


def test_unreachable_store_with_at_in_password_shows_no_part_of_it() -> None:
    with pytest.raises(ParityError) as info:
        Store("postgresql+psycopg://u:s3k@r1tx@127.0.0.1:1/db")  # nothing listens on port 1
    assert "s3k" not in str(info.value) and "r1tx" not in str(info.value)
    with pytest.raises(ParityError) as info:
        parse_url("postgresql+psycopg://u:s3k@r1tx@127.0.0.1:x/db")  # a port that is no number
    assert "s3k" not in str(info.value) and "r1tx" not in str(info.value)


def test_url_option_the_driver_cannot_convert(tmp_path: Path) -> None:
    with pytest.raises(ParityError, match=r"invalid option in the URL \(could not convert string to float"):
        Store(f"sqlite+pysqlite:///{tmp_path / 'x.db'}?timeout=abc")


def test_sqlite_path_in_the_home_of_an_unknown_user() -> None:
    with pytest.raises(ParityError, match="cannot find the home folder"):
        Store("sqlite:///~nouser-parity-test/x.db")


def test_the_head_revision_constant_is_the_scripts_head() -> None:
    """HEAD_REVISION lets a store at the newest revision skip importing Alembic: it must name the newest script."""
    from parity.store import engine

    assert engine._heads() == {engine.HEAD_REVISION}


def test_a_store_at_the_head_revision_is_opened_without_alembic(tmp_path: Path) -> None:
    """What a command pays on a store that exists: one query, no Alembic import (a fresh interpreter, as a command)."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'parity.db'}"
    code = (
        "import sys; from parity.store import Store; s = Store(sys.argv[1]); s.migrate(); s.close(); "
        "print('alembic' in sys.modules)"
    )
    first = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True)
    assert (first.stdout.strip(), again.stdout.strip()) == ("True", "False")  # created through Alembic, then not


def test_a_store_another_process_creates_meanwhile_is_not_called_foreign(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first look finds no revision; while Alembic loads (slow), another parity creates the store. What
    the second look sees is that store, at the newest revision: no error, nothing to do (two `parity watch`
    started at once on a new SQLite file, one said "not a parity store")."""
    from parity.store import engine

    real_heads = engine._heads

    def heads_while_another_migrates() -> set[str]:
        monkeypatch.setattr(engine, "_heads", real_heads)  # once: the other parity loads Alembic as usual
        other = Store(store_url)
        other.migrate()
        other.close()
        return real_heads()

    monkeypatch.setattr(engine, "_heads", heads_while_another_migrates)
    s = Store(store_url)
    try:
        s.migrate()
        assert s.scans() == []
    finally:
        s.close()
