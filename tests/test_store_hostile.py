"""The store, history and the finding lifecycle under odd-but-valid and hostile use: acceptances corrected,
owners the backends disagree about, absurd limits, option combinations history ignored, resource names that
are markup or escape sequences, a standard output that cannot be written. Store behaviour runs on SQLite and
PostgreSQL (the ``store_url`` fixture)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from parity.cli import main
from parity.errors import ParityError, UsageError
from parity.model import Change, Finding
from parity.store import Store

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 3, 1)


def finding(key: str) -> Finding:
    return Finding(
        kind="differs",
        severity="high",
        type="aws_s3_bucket",
        key=key,
        environments=("staging", "production"),
        resources={"staging": f"{key}-s", "production": f"{key}-p"},
        message=f"{key} differs",
        changes=(Change("versioning", True, False),),
    )


def _scan(store: Store, findings: list[Finding], day: int) -> None:
    at = T0 + dt.timedelta(days=day)
    store.record_scan(
        environments=("staging", "production"), snapshots=(), findings=findings, started_at=at, finished_at=at,
        today=TODAY,
    )  # fmt: skip


# ------------------------------------------------------------------ acceptances


def test_accepting_again_replaces_the_earlier_acceptance(store: Store) -> None:
    """A typo'd expiry (9999 for 2025) could never be corrected: the longest acceptance always won, so
    re-accepting with the right date, or to shorten it, changed nothing."""
    a = finding("a")
    _scan(store, [a], 0)
    store.accept(a.id, owner="ana", reason="typo", expires=dt.date(9999, 12, 31), today=TODAY)
    fixed = store.accept(a.id, owner="bo", reason="until the migration", expires=TODAY + dt.timedelta(days=3),
                         today=TODAY)  # fmt: skip
    assert fixed.status == "accepted"
    assert fixed.notes == (f"accepted by bo until {(TODAY + dt.timedelta(days=3)).isoformat()}: until the migration",)
    (shown,) = store.findings(today=TODAY + dt.timedelta(days=3))
    assert shown.status == "accepted"
    (later,) = store.findings(today=TODAY + dt.timedelta(days=4))
    assert later.status == "new"  # the corrected acceptance expired: the 9999 one no longer holds it
    assert any("acceptance by bo expired" in n for n in later.notes)


def test_an_owner_is_judged_the_same_on_every_backend(store: Store) -> None:
    """PostgreSQL refused a 256-character owner with a bare "value too long for type character varying(255)",
    SQLite kept it; a control character in an owner reached the terminal in `parity accept`'s answer."""
    a = finding("a")
    _scan(store, [a], 0)
    expires = TODAY + dt.timedelta(days=1)
    with pytest.raises(UsageError, match="owner is longer than 255 characters"):
        store.accept(a.id, owner="o" * 256, reason="r", expires=expires, today=TODAY)
    for owner in ("ana\x1b]0;pwned\x07", "ana\x00bo", "ana\nbo"):
        with pytest.raises(UsageError, match="control character"):
            store.accept(a.id, owner=owner, reason="r", expires=expires, today=TODAY)
    with pytest.raises(UsageError, match="control character"):
        store.accept(a.id, owner="ana", reason="r\x1b[2J", expires=expires, today=TODAY)
    assert store.storage_stats()["acceptances"] == 0
    # the longest owner allowed, and a reason on several lines, are kept as given (trimmed)
    got = store.accept(a.id, owner=" " + "o" * 255 + " ", reason="line one\n\tline two", expires=expires, today=TODAY)
    assert got.notes == (f"accepted by {'o' * 255} until {expires.isoformat()}: line one\n\tline two",)


def test_an_unknown_id_says_where_ids_come_from(store: Store) -> None:
    _scan(store, [finding("a")], 0)
    with pytest.raises(UsageError, match=r"no finding with id 'abcdef' in the store \(findings are stored by"):
        store.accept("ABCDEF", owner="ana", reason="r", expires=TODAY, today=TODAY)


def test_an_absurd_scan_limit_lists_every_scan(store: Store) -> None:
    """`parity history --limit 99999999999999999999` was an internal error (OverflowError) on SQLite."""
    for day in range(3):
        _scan(store, [], day)
    assert [s.id for s in store.scans(limit=10**20)] == [3, 2, 1]
    assert [s.id for s in store.scans(limit=2**63)] == [3, 2, 1]
    assert [s.id for s in store.scans(limit=2)] == [3, 2]


# ------------------------------------------------------------------ the history command


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def scanned(demo: Path, capsys: pytest.CaptureFixture[str]) -> str:
    cfg = str(demo / "parity.yaml")
    assert run(capsys, "scan", "-c", cfg, "--format", "json")[0] == 2
    return cfg


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--status", "open"], "--status filters findings: use it with --findings"),
        (["--status", "recurring", "-e", "staging"], "--status filters findings"),
        (["app.env", "--findings"], "parity history RESOURCE does not take --findings"),
        (["app.env", "--status", "open"], "parity history RESOURCE does not take --status"),
        (["app.env", "--changes"], "parity history RESOURCE does not take --changes/--no-changes"),
        (["app.env", "--limit", "3"], "parity history RESOURCE does not take --limit"),
        (["--findings", "--changes"], "parity history --findings does not take --changes/--no-changes"),
        (["--findings", "--no-changes", "--limit", "2"], "does not take --changes/--no-changes, --limit"),
    ],
)
def test_history_options_of_another_view_are_an_error_not_ignored(
    scanned: str, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    """`parity history --status recurring -f json` printed the scan list (status ignored), which a script took
    for the recurring findings; every other option of another view was dropped as silently."""
    code, out, err = run(capsys, "history", "-c", scanned, *args, "--format", "json")
    assert (code, out) == (1, "")
    assert err.startswith("parity: error: ") and says in err and err.count("\n") == 1


def test_history_views_still_take_their_options(scanned: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "history", "-c", scanned, "--findings", "--status", "new", "-e", "production",
                       "--format", "json")  # fmt: skip
    assert code == 0 and {f["status"] for f in json.loads(out)} == {"new"}
    code, out, _ = run(capsys, "history", "-c", scanned, "app.env", "-e", "production", "--format", "json")
    assert code == 0 and json.loads(out)["timelines"][0]["environment"] == "production"
    code, out, _ = run(capsys, "history", "-c", scanned, "--limit", "99999999999999999999", "--no-changes",
                       "--format", "json")  # fmt: skip
    assert code == 0 and [s["id"] for s in json.loads(out)] == [1]


HOSTILE = "evil[/]x\x1b]0;pwned\x07[bold]y"


def test_history_tables_show_hostile_resource_names_as_written(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resource named with "[/]" crashed `parity history RESOURCE` (internal error: rich's MarkupError: the
    timeline's title was read as markup), and escape sequences in names reached the terminal from the
    findings, timeline and changes tables."""
    monkeypatch.setenv("COLUMNS", "250")
    manifest = demo / "kubernetes" / "production" / "evil.yaml"

    def write(value: str) -> None:
        manifest.write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            f"  name: {json.dumps(HOSTILE)}\n  namespace: greenflash-production\n"
            f"data:\n  {json.dumps('k[/]ey' + chr(27) + '[31m')}: {json.dumps(value)}\n"
        )

    cfg = str(demo / "parity.yaml")
    write("one")
    assert run(capsys, "scan", "-c", cfg, "--format", "json")[0] == 2
    write("two")
    assert run(capsys, "scan", "-c", cfg, "--format", "json")[0] == 2
    for args in (
        ["greenflash-production/evil*"],
        ["--findings"],
        ["--changes"],
        ["-e", "production"],
    ):
        code, out, err = run(capsys, "history", "-c", cfg, *args)
        assert code == 0, err
        assert "\x1b" not in out and "\x07" not in out, args
        assert "evil[/]x␛]0;pwned␇[bold]y" in out, args
    code, out, _ = run(capsys, "history", "-c", cfg, "greenflash-production/evil*", "--format", "json")
    assert code == 0 and json.loads(out)["timelines"][0]["id"] == f"greenflash-production/{HOSTILE}"  # exact


class _FullDisk(io.TextIOBase):
    def write(self, s: str) -> int:
        raise OSError(28, "No space left on device")

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_history_to_a_full_disk_is_one_error_line(
    scanned: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """`parity history > /dev/full` was "parity: internal error: OSError: [Errno 28] ..."."""
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    code = main(["history", "-c", scanned, "--findings", "--format", fmt])
    err = capsys.readouterr().err
    assert code == 1
    assert err == "parity: error: cannot write to standard output: No space left on device\n"


def test_accept_answers_on_one_line_and_says_when_the_finding_is_resolved(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(demo / "parity.yaml")
    env = demo / "config" / "production" / "app.env"
    assert run(capsys, "scan", "-c", cfg)[0] == 2
    env.write_text(env.read_text().replace("HTTP_RETRY_MAX=5", "HTTP_RETRY_MAX=3"))
    code, out, _ = run(capsys, "scan", "-c", cfg, "--format", "json")
    (gone,) = [f for f in json.loads(out)["resolved"] if f["kind"] == "differs" and f["key"] == "app.env"]
    code, _, err = run(capsys, "accept", gone["id"], "-c", cfg, "--owner", "ana " * 30, "--reason", "known",
                       "--expires", "2999-01-01")  # fmt: skip
    assert code == 0
    assert err.count("\n") == 1 and "it is resolved now: the acceptance applies if it comes back" in err
    code, _, err = run(capsys, "accept", gone["id"], "-c", cfg, "--owner", "ana\x1b[31m", "--reason", "r",
                       "--expires", "2999-01-01")  # fmt: skip
    assert code == 1 and "\x1b" not in err.replace("\\x1b", "") and "control character" in err


# ------------------------------------------------------------------ stores that are not parity's


def test_a_database_holding_tables_of_parity_names_is_refused_by_name(store_url: str) -> None:
    """Someone else's database with a `scans` table failed with a bare "table scans already exists"."""
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE scans (x INTEGER)"))
        conn.execute(sa.text("CREATE TABLE other_app (y INTEGER)"))
    engine.dispose()
    s = Store(store_url)
    try:
        with pytest.raises(ParityError) as info:
            s.migrate()
        assert str(info.value) == (
            f"store {s.url}: not a parity store: it holds table(s) scans that parity did not create "
            "(no parity schema revision); point store: at a new database"
        )
    finally:
        s.close()
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"scans", "other_app"}  # nothing half-created
    engine.dispose()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (bytes(range(256)) * 64, "file is not a database"),
        (b"SQLite format 3\x00" + bytes(range(256)) * 64, "database disk image is malformed|file is not a database"),
    ],
)
def test_a_corrupt_sqlite_file_is_one_line_naming_the_store(
    demo: Path, capsys: pytest.CaptureFixture[str], content: bytes, says: str
) -> None:
    (demo / ".parity").mkdir(exist_ok=True)
    (demo / ".parity" / "parity.db").write_bytes(content)
    for args in (["history"], ["scan", "--format", "json"], ["history", "--findings"]):
        code, out, err = run(capsys, *args, "-c", str(demo / "parity.yaml"))
        assert (code, out) == (1, "")
        assert err.startswith("parity: error: store sqlite:///") and err.count("\n") == 1
        assert re.search(says, err)
    assert (demo / ".parity" / "parity.db").read_bytes() == content  # left as it was
