"""Command-line input that used to crash, hang or do the wrong thing quietly: each is now one error line
and exit 1 (or, for the demo, refuses to overwrite the user's files)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from parity.cli import main
from test_cli import run


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and "internal error" not in err
    return lines[-1]


# --- parity demo must not overwrite the user's files ------------------------------------------------------


@pytest.mark.parametrize("where", [".", ""])
def test_demo_refuses_a_folder_with_the_users_files(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = "environments:\n  mine: {}\n"
    (tmp_path / "parity.yaml").write_text(mine)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "demo", "--no-aws", "--dir", where)
    assert code == 1
    assert one_error_line(err) == "parity: error: . already exists and is not empty (use --force to overwrite)"
    assert (tmp_path / "parity.yaml").read_text() == mine
    assert not (tmp_path / "terraform").exists()


def test_demo_refuses_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "parity.yaml").write_text("environments:\n  mine: {}\n")
    monkeypatch.chdir(tmp_path)
    for extra in ((), ("--force",)):
        code, _, err = run(capsys, "demo", "--no-aws", "--dir", "parity.yaml", *extra)
        assert code == 1
        assert one_error_line(err).startswith("parity: error: parity.yaml already exists and is not a folder")


def test_demo_reruns_in_its_own_folder_and_force_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "d"
    assert run(capsys, "demo", "--no-aws", "--dir", str(target), "--format", "json")[0] == 0
    # a second run keeps the history, as the demo promises
    code, out, err = run(capsys, "demo", "--no-aws", "--dir", str(target), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["scan_id"] == 2
    # a demo whose parity.yaml the user changed is theirs now: refused without --force
    (target / "parity.yaml").write_text((target / "parity.yaml").read_text() + "# my notes\n")
    code, _, err = run(capsys, "demo", "--no-aws", "--dir", str(target))
    assert code == 1 and "use --force to overwrite" in err
    code, _, err = run(capsys, "demo", "--no-aws", "--dir", str(target), "--force", "--format", "json")
    assert code == 0, err
    assert "# my notes" not in (target / "parity.yaml").read_text()


# --- parity history -----------------------------------------------------------------------------------------


def test_history_rejects_unknown_environment_bad_limit_and_report_formats(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(demo / "parity.yaml")
    assert run(capsys, "scan", "-c", cfg, "--format", "json")[0] == 2
    for extra in ((), ("--findings",), ("aws_sqs_queue.*",)):
        code, _, err = run(capsys, "history", "-c", cfg, "-e", "nope", *extra)
        assert code == 1
        assert (
            one_error_line(err)
            == "parity: error: unknown environment 'nope' (parity.yaml defines: staging, production)"
        )
    for limit in ("0", "-3"):
        code, _, err = run(capsys, "history", "-c", cfg, "--limit", limit)
        assert code == 1 and "--limit" in err and "no scans stored yet" not in err
    for fmt in ("markdown", "sarif", "junit"):
        code, out, err = run(capsys, "history", "-c", cfg, "-f", fmt)
        assert code == 1 and out == ""
        assert one_error_line(err) == (
            f"parity: error: history prints --format table or json, not {fmt}"
            " (the other formats are for scan, diff and drift reports)"
        )
    code, out, _ = run(capsys, "history", "-c", cfg, "-e", "staging", "--limit", "1", "-f", "json")
    assert code == 0 and [s["id"] for s in json.loads(out)] == [1]


# --- options and store URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_watch_metrics_port_out_of_range(demo: Path, capsys: pytest.CaptureFixture[str], port: str) -> None:
    code, _, err = run(capsys, "watch", "--once", "--metrics-port", port, "-c", str(demo / "parity.yaml"))
    assert code == 1
    assert "--metrics-port" in one_error_line(err)


def test_store_url_option_the_driver_cannot_read(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = demo / "parity.yaml"
    cfg.write_text(cfg.read_text().replace("sqlite:///.parity/parity.db", '"sqlite+pysqlite:///x.db?timeout=abc"'))
    code, _, err = run(capsys, "history", "-c", str(cfg))
    assert code == 1
    line = one_error_line(err)
    assert line.startswith("parity: error: store sqlite+pysqlite:///") and "invalid option in the URL" in line


def test_password_with_at_sign_is_masked_whole(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = demo / "parity.yaml"
    url = "postgresql+psycopg://u:s3k@r1tx@127.0.0.1:1/db"  # nothing listens on port 1
    cfg.write_text(cfg.read_text().replace("sqlite:///.parity/parity.db", url))
    code, _, err = run(capsys, "history", "-c", str(cfg))
    assert code == 1
    line = one_error_line(err)
    assert "r1tx" not in line and "s3k" not in line
    assert line.startswith("parity: error: store postgresql+psycopg://u:***@127.0.0.1:1/db: ")


def test_store_from_a_newer_parity(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(demo / "parity.yaml")
    assert run(capsys, "history", "-c", cfg)[0] == 0  # creates the store
    db = demo / ".parity" / "parity.db"
    with sqlite3.connect(db) as conn:
        conn.execute("update alembic_version set version_num = '0099_future'")
    for args in (("history",), ("scan", "--format", "json")):
        code, out, err = run(capsys, *args, "-c", cfg)
        assert code == 1 and out == ""
        assert one_error_line(err) == (
            f"parity: error: store sqlite:///{db}: created by a newer parity (schema revision 0099_future);"
            " upgrade parity"
        )


def test_ctrl_c_says_interrupted_and_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import parity.config

    def interrupted(*_args: object, **_kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(parity.config, "json_schema", interrupted)  # `parity schema` imports it when it runs
    code = main(["schema"])
    _, err = capsys.readouterr()
    assert code == 130
    assert err.strip().splitlines()[-1] == "parity: interrupted"


def test_ctrl_c_while_the_cli_loads_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from parity.__main__ import entry

    class Interrupting:  # a Ctrl-C arriving while `parity.cli` is imported
        def find_spec(self, name: str, *_args: object) -> None:
            if name == "parity.cli":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "parity.cli")
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as ei:
        entry()
    assert ei.value.code == 130
    assert capsys.readouterr().err == "parity: interrupted\n"


def test_ctrl_c_after_the_command_returned_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import parity.cli
    from parity.__main__ import entry

    def late(*_args: object) -> int:  # the report is out; Ctrl-C lands before the process exits
        raise KeyboardInterrupt

    monkeypatch.setattr(parity.cli, "main", late)
    with pytest.raises(SystemExit) as ei:
        entry()
    assert ei.value.code == 130 and capsys.readouterr().err == "parity: interrupted\n"


class _Failing:
    """A standard output that fails as a full disk or a reader that went away does."""

    def __init__(self, error: OSError, fd: int) -> None:
        self.error, self.fd = error, fd

    def write(self, _text: str) -> int:
        raise self.error

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.fd


def test_a_full_disk_behind_a_redirect_is_one_line(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno
    import sys

    with (tmp_path / "out").open("w") as fh:
        monkeypatch.setattr(sys, "stdout", _Failing(OSError(errno.ENOSPC, "No space left on device"), fh.fileno()))
        code = main(["diff", "staging", "production", "-c", str(demo / "parity.yaml"), "-f", "json", "--no-progress"])
    assert code == 1
    assert one_error_line(capsys.readouterr().err).endswith("to standard output: No space left on device")


def test_a_reader_that_went_away_ends_quietly(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    with (tmp_path / "out").open("w") as fh:
        monkeypatch.setattr(sys, "stdout", _Failing(BrokenPipeError(32, "Broken pipe"), fh.fileno()))
        with pytest.raises(SystemExit) as ei:  # click's own answer to EPIPE: exit 1 without a word
            main(["diff", "staging", "production", "-c", str(demo / "parity.yaml"), "-f", "json", "--no-progress"])
    assert ei.value.code == 1
    assert "error" not in capsys.readouterr().err


def test_a_report_that_cannot_be_finished_leaves_the_old_one_whole(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    from parity.cli import common

    report = tmp_path / "report.json"
    report.write_text("the previous report\n")
    report.chmod(0o640)

    def disk_full(_src: object, _dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(common.os, "replace", disk_full)
    args = ["diff", "staging", "production", "-c", str(demo / "parity.yaml"), "-f", "json", "-o", str(report)]
    assert main([*args, "--no-progress"]) == 1
    assert "cannot write the report" in one_error_line(capsys.readouterr().err)
    assert report.read_text() == "the previous report\n" and not list(tmp_path.glob(".report.json.*"))
    monkeypatch.undo()
    assert main([*args, "--no-progress"]) == 2
    assert json.loads(report.read_text())["schema"] == "parity/findings@1"
    assert report.stat().st_mode & 0o777 == 0o640  # the file's mode is kept


def test_a_report_through_a_link_writes_its_target(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target.json"
    target.write_text("")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    code = main(["diff", "staging", "production", "-c", str(demo / "parity.yaml"), "-f", "json", "-o", str(link),
                 "--no-progress"])  # fmt: skip
    assert code == 2 and link.is_symlink()
    assert json.loads(target.read_text())["schema"] == "parity/findings@1"
