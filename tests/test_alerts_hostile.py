"""Hostile alert destinations: a delivery error never stores or prints the webhook URL's path or query (a Slack
URL is a secret), whatever the exception; and webhook URLs that cannot be delivered to are config errors
naming the file and the line, never quoting the URL."""

from __future__ import annotations

import datetime as dt
import smtplib
import string
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from alert_helpers import free_port, webhook_receiver
from parity.alerts.deliver import deliver
from parity.alerts.notifiers import DeliveryError, _host, post_json, send_email
from parity.alerts.settings import EmailAlert, SlackAlert, WebhookAlert, _check_http_url
from parity.cli import main
from parity.config import parse_config
from parity.errors import ConfigError
from parity.store import Store

SECRET = "XOXB-s3cr3t-path"
CLOSED = f"127.0.0.1:{free_port()}"  # nothing listens there
DOC = '{"scan_id": 1, "environments": ["production"], "findings": []}'


def _queue(store: Store, notifier: str) -> None:
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    store.record_scan(environments=["production"], snapshots=[], findings=[], started_at=at,
                      finished_at=at, alerts=lambda _scan, _found: [(notifier, DOC)])  # fmt: skip


# ------------------------------------------------------------------ delivery errors never hold the URL


@pytest.mark.parametrize(
    ("url", "cls"),
    [
        (f"http://{CLOSED}/services/T0/B0/{SECRET} x", "InvalidURL"),  # http.client.InvalidURL escaped before
        (f"http://{CLOSED}/services/{SECRET}\r\nX-Injected: 1", "InvalidURL"),
        (f"http://{CLOSED}/services/{SECRET}é", "UnicodeEncodeError"),  # quoted the character and its position
        (f"http://127.0.0.1:99999/services/{SECRET}", "http://127.0.0.1:?: "),  # raised outside the try before
        (f"http://[::1/services/{SECRET}", "ValueError"),
        (f"http://{CLOSED}/services/{SECRET}?token={SECRET}", "ConnectionRefusedError: Connection refused"),
        (f"nonsense/{SECRET}", "ValueError"),  # urllib's "unknown url type" quotes the URL
    ],
)
def test_post_json_names_the_exception_class_never_the_url(url: str, cls: str) -> None:
    with pytest.raises(DeliveryError) as e:
        post_json(url, b"{}", {}, timeout=2)
    text = str(e.value)
    assert SECRET not in text and "services" not in text and "\n" not in text
    assert cls in text and text.startswith("cannot reach ")


@settings(max_examples=60, deadline=None)
@given(path=st.text(max_size=30), query=st.text(alphabet=string.printable, max_size=20))
def test_any_path_stays_out_of_the_error(path: str, query: str) -> None:
    url = f"http://{CLOSED}/{SECRET}/{path}?q={SECRET}{query}"
    with pytest.raises(DeliveryError) as e:
        post_json(url, b"{}", {}, timeout=2)
    assert SECRET not in str(e.value) and "\n" not in str(e.value)


def test_the_stored_and_logged_error_names_the_notifier_not_the_url(store: Store) -> None:
    # A URL config validation would refuse, as if it had got past it (an old store, a future check gone wrong).
    n = SlackAlert.model_construct(kind="slack", webhook_url=SecretStr(f"http://{CLOSED}/services/T0/{SECRET} x"),
                                   name="ops-channel", max_attempts=8, backoff=30.0, timeout=2.0)  # fmt: skip
    _queue(store, n.id)
    logged: list[str] = []
    result = deliver(store, [n], ignore_backoff=True, log=logged.append)
    assert result.failed == 1
    [entry] = store.alerts_due([n.id], ignore_backoff=True)
    assert entry.last_error is not None
    assert entry.last_error.startswith("slack notifier ops-channel: cannot reach http://127.0.0.1:")
    assert entry.last_error.endswith(": InvalidURL")
    assert all(SECRET not in t and "services" not in t for t in [entry.last_error, *logged])
    assert "slack notifier ops-channel: cannot reach" in logged[0]


def test_an_unexpected_exception_is_named_by_its_class_only(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    n = WebhookAlert(kind="webhook", url=f"http://{CLOSED}/hook")

    def boom(*_args: Any, **_kw: Any) -> None:
        raise KeyError(f"http://{CLOSED}/hook/{SECRET}")

    monkeypatch.setattr("parity.alerts.deliver.send", boom)
    _queue(store, n.id)
    deliver(store, [n], ignore_backoff=True)
    [entry] = store.alerts_due([n.id], ignore_backoff=True)
    assert entry.last_error == f"webhook notifier {n.id}: KeyError (unexpected)"


def test_smtp_errors_never_quote_their_text(monkeypatch: pytest.MonkeyPatch) -> None:
    n = EmailAlert.model_validate({"kind": "email", "smtp_host": "127.0.0.1", "from": "p@example.com",
                                   "to": ["o@example.com"], "username": "u", "password": f"pä{SECRET}"})  # fmt: skip

    class FakeSMTP:
        def __init__(self, *_a: Any, **_kw: Any) -> None:
            pass

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *_a: Any) -> None:
            pass

        def starttls(self, **_kw: Any) -> None:
            pass

        def login(self, _user: str, password: str) -> None:
            password.encode("ascii")  # what smtplib does with a non-ASCII password: the error quotes a slice

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    with pytest.raises(DeliveryError) as e:
        send_email(n, EmailMessage())
    assert str(e.value) == "cannot reach smtp://127.0.0.1:587: UnicodeEncodeError"


# ------------------------------------------------------------------ webhook URLs are checked at config load


BASE = "environments:\n  production:\n    sources: [{kind: config, path: x}]\nalerts:\n"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (f"https://hooks.slack.com/services/T0/B0/{SECRET} x", "without whitespace, control or non-ASCII"),
        (f"https://hooks.slack.com/services/{SECRET}\\t", "without whitespace, control or non-ASCII"),
        (f"https://hooks.slack.com/services/{SECRET}\\x7f", "without whitespace, control or non-ASCII"),
        (f"https://hooks.slack.com/services/{SECRET}\\n", "without whitespace, control or non-ASCII"),
        (f"https://hooks.slack.com/services/é{SECRET}", "without whitespace, control or non-ASCII"),
        (f"https://hooks.slack.com:99999/services/{SECRET}", "invalid port"),
        (f"https://hooks.slack.com:0/services/{SECRET}", "invalid port"),
        (f"https://hooks.slack.com:https/services/{SECRET}", "invalid port"),
        (f"ftp://hooks.slack.com/services/{SECRET}", "must be an http:// or https:// URL"),
        (f"hooks.slack.com/services/{SECRET}", "must be an http:// or https:// URL"),
        (f"javascript://hooks.slack.com/{SECRET}", "must be an http:// or https:// URL"),
        (f"https:///services/{SECRET}", "has no host"),
        (f"https://user:{SECRET}@hooks.slack.com/services/x", "must not hold a user name or password"),
        (f"https://[::1/services/{SECRET}", "invalid host"),
        (f"https://[::g]/services/{SECRET}", "invalid host"),
        (f"https://hooks$slack.com/services/{SECRET}", "invalid host name"),
    ],
)
@pytest.mark.parametrize("kind", ["slack", "webhook"])
def test_bad_webhook_urls_are_config_errors_naming_the_line(
    kind: str, url: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", url.encode().decode("unicode_escape") if "\\" in url else url)
    key = "webhook_url" if kind == "slack" else "url"
    email = "  - {kind: email, smtp_host: h, from: a@b.c, to: [d@e.f]}\n"
    text = BASE + email + f"  - kind: {kind}\n    {key}: '${{HOOK_URL}}'\n"
    with pytest.raises(ConfigError) as e:
        parse_config(text, "parity.yaml")
    assert str(e.value).startswith(f"parity.yaml:7: alerts[1].{key}: ") and said in str(e.value), str(e.value)
    assert SECRET not in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    "url",
    ["https://hooks.slack.com/services/T0/B0/abc", "http://127.0.0.1:8080/hook?x=1&y=%20", "http://[::1]:9/h",
     "HTTPS://Hooks.Example.COM/x", "http://alert_receiver:9000/", "https://h.example.com:443"],
)  # fmt: skip
def test_good_webhook_urls_load(url: str) -> None:
    cfg = parse_config(BASE + f"  - {{kind: slack, webhook_url: '{url}'}}\n  - {{kind: webhook, url: '{url}'}}\n", "p")
    assert len(cfg.alerts) == 2


@settings(max_examples=300, deadline=None)
@given(url=st.text(max_size=40) | st.text(max_size=30).map(lambda t: "https://" + t))
def test_whatever_loads_can_be_posted_to_and_no_error_quotes_it(url: str) -> None:
    try:
        _check_http_url(url)
    except ValueError as e:
        assert len(url) < 12 or url not in str(e)  # never quoted (short strings may be in any message)
        return
    assert _host(url).startswith(("http://", "https://"))  # an accepted URL always has a printable origin


def test_the_cli_says_it_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("SLACK_URL", f"https://hooks.slack.com:99999/services/T0/B0/{SECRET}")
    cfg = tmp_path / "parity.yaml"
    cfg.write_text(BASE + "  - kind: slack\n    webhook_url: ${SLACK_URL}\n")
    assert main(["scan", "-c", str(cfg), "--no-progress"]) == 1
    out, err = capsys.readouterr()
    assert err == f"parity: error: {cfg}:6: alerts[0].webhook_url: has an invalid port (a number from 1 to 65535)\n"
    assert SECRET not in out + err


def test_a_good_url_still_delivers(store: Store) -> None:
    with webhook_receiver() as hook:
        n = SlackAlert(kind="slack", webhook_url=SecretStr(f"{hook.url}/services/T0/B0/{SECRET}"))
        _queue(store, n.id)
        assert deliver(store, [n]).sent == 1
        assert [r.path for r in hook.accepted()] == [f"/services/T0/B0/{SECRET}"]
