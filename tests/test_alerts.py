"""Alerts from `parity scan`: a webhook receiver and an SMTP server on loopback receive real messages; only new
and recurring findings, one message per scan per notifier, retries without duplicates, secrets never shown."""

from __future__ import annotations

import hashlib
import hmac
import shutil
from pathlib import Path

import pytest

from alert_helpers import smtp_server, webhook_receiver
from parity.alerts.notifiers import slack_escape, slack_message
from parity.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greenflash"
SIGNING = "sign-me-0a9b8c"
TOKEN = "tok-in-header-77f1"


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "greenflash"
    shutil.copytree(EXAMPLE, d)
    monkeypatch.setenv("HOOK_TOKEN", TOKEN)
    monkeypatch.setenv("HOOK_SECRET", SIGNING)
    return d


def add_alerts(demo: Path, lines: str) -> Path:
    cfg = demo / "parity.yaml"
    cfg.write_text(cfg.read_text() + "\nalerts:\n" + lines)
    return cfg


def scan(capsys: pytest.CaptureFixture[str], cfg: Path, *extra: str) -> tuple[int, str]:
    code = main(["scan", "-c", str(cfg), "--format", "json", "--no-progress", *extra])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    assert TOKEN not in out + err and SIGNING not in out + err
    return code, err


def test_each_notifier_gets_one_message_per_scan_with_only_new_and_recurring(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with webhook_receiver() as hook, smtp_server() as mail:
        cfg = add_alerts(
            demo,
            f"  - {{kind: webhook, url: '{hook.url}/hook', headers: {{Authorization: 'Bearer ${{HOOK_TOKEN}}'}},\n"
            f"     secret_header: {{secret: '${{HOOK_SECRET}}'}}}}\n"
            f"  - {{kind: slack, webhook_url: '{hook.url}/slack'}}\n"
            f"  - {{kind: email, smtp_host: 127.0.0.1, smtp_port: {mail.port}, starttls: false,\n"
            f"     from: parity@example.com, to: [ops@example.com, sec@example.com]}}\n",
        )
        scan(capsys, cfg)
        [first] = hook.accepted("/hook")
        doc = first.json()
        assert doc["schema"] == "parity/findings@1" and doc["scan_id"] == 1
        assert doc["environments"] == ["staging", "production"]
        assert len(doc["findings"]) > 10 and {f["status"] for f in doc["findings"]} == {"new"}
        assert doc["summary"]["findings"] == len(doc["findings"])
        assert first.headers["Authorization"] == f"Bearer {TOKEN}"
        expected = "sha256=" + hmac.new(SIGNING.encode(), first.body, hashlib.sha256).hexdigest()
        assert first.headers["X-Parity-Signature-256"] == expected
        assert first.headers["X-Parity-Delivery"].startswith("1.")
        [slack] = hook.accepted("/slack")
        assert "new or recurring" in slack.json()["text"] and slack.json()["blocks"]
        assert len(mail.messages) == 1
        msg = mail.messages[0]
        assert mail.envelopes[0] == ("parity@example.com", ["ops@example.com", "sec@example.com"])
        assert "scan 1" in msg["Subject"]
        assert {p.get_content_type() for p in msg.iter_parts()} == {"text/plain", "text/html"}

        # nothing new: nothing sent
        scan(capsys, cfg)
        assert len(hook.accepted()) == 2 and len(mail.messages) == 1

        # a planted resource: exactly it is sent
        planted = demo / "config" / "production" / "planted-flags.yaml"
        planted.write_text("flag: on\n")
        scan(capsys, cfg)
        third = hook.accepted("/hook")[-1].json()
        assert third["scan_id"] == 3
        assert [f["status"] for f in third["findings"]] == ["new"]
        assert "planted-flags" in third["findings"][0]["key"]
        assert len(mail.messages) == 2

        # resolved, then back: sent again as recurring
        planted.unlink()
        scan(capsys, cfg)
        planted.write_text("flag: on\n")
        scan(capsys, cfg)
        last = hook.accepted("/hook")[-1].json()
        assert last["scan_id"] == 5 and [f["status"] for f in last["findings"]] == ["recurring"]
        assert len(hook.accepted("/hook")) == 3 and len(hook.accepted("/slack")) == 3 and len(mail.messages) == 3
        assert len({r.headers["X-Parity-Delivery"] for r in hook.accepted("/hook")}) == 3


def test_a_failed_delivery_waits_in_the_outbox_and_goes_first_next_time(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with webhook_receiver(fail_first=1) as hook:
        cfg = add_alerts(demo, f"  - {{kind: webhook, url: '{hook.url}/hook', backoff: 1h, min_severity: high}}\n")
        _, err = scan(capsys, cfg)
        assert "attempt 1 failed" in err and "HTTP 500" in err
        assert hook.accepted() == []
        (demo / "config" / "production" / "planted-flags.yaml").write_text("flag: on\n")
        scan(capsys, cfg)
        got = [r.json() for r in hook.accepted()]
        assert [d["scan_id"] for d in got] == [1, 2]  # the older alert first, each once
        assert all(f["severity"] in ("critical", "high") for d in got for f in d["findings"])
        scan(capsys, cfg)
        assert len(hook.accepted()) == 2


def test_no_alerts_neither_queues_nor_sends(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with webhook_receiver() as hook:
        cfg = add_alerts(demo, f"  - {{kind: webhook, url: '{hook.url}/hook'}}\n")
        scan(capsys, cfg, "--no-alerts")
        scan(capsys, cfg)  # the findings are open now: nothing new to send
        assert hook.requests == []


def test_an_unreachable_receiver_is_a_warning_not_an_error(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = add_alerts(demo, "  - {kind: slack, webhook_url: 'http://127.0.0.1:9/services/T0/B0/${HOOK_TOKEN}'}\n")
    code, err = scan(capsys, cfg)
    assert code == 2
    assert "cannot reach http://127.0.0.1:9" in err and "services" not in err


def test_slack_escapes_names_from_the_cloud() -> None:
    doc = {
        "scan_id": 7,
        "environments": ["staging", "production"],
        "findings": [
            {"id": "abc", "kind": "only_in", "severity": "high", "status": "new", "environments": ["production"],
             "message": "aws_sqs_queue <!channel> & <https://evil|click> exists only in production"},
        ],
    }  # fmt: skip
    msg = slack_message(doc)
    text = str(msg)
    assert "<!channel>" not in text and "<https://evil|click>" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in msg["blocks"][1]["text"]["text"]
    assert slack_escape("a<b>&c") == "a&lt;b&gt;&amp;c"
