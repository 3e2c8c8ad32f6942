"""The store's watch-mode rows on SQLite and PostgreSQL: the outbox is written with the scan or not at all, an
entry is claimed by one deliverer only, leases are all-or-nothing and expire; plus schedules and config."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from parity.config import parse_config
from parity.errors import ConfigError
from parity.model import Finding, Snapshot
from parity.store import Store
from parity.watch.schedule import Job, make_jobs, next_cron, scan_set
from parity.watch.settings import Schedule, parse_duration

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def finding(key: str) -> Finding:
    return Finding("only_in", "high", "aws_s3_bucket", key, ("staging", "production"), {"production": key}, f"{key}")


def record(store: Store, findings: list[Finding], alerts: object = None) -> int:
    snap = Snapshot("production", "tf", "terraform-state", "declared", T0)
    return store.record_scan(
        environments=["staging", "production"], snapshots=[snap], findings=findings,
        started_at=T0, finished_at=T0, alerts=alerts,  # type: ignore[arg-type]
    ).scan_id  # fmt: skip


def test_outbox_rows_are_written_with_the_scan_or_not_at_all(store: Store) -> None:
    def queue(scan_id: int, found: object) -> list[tuple[str, str]]:
        return [("hook", f'{{"scan_id": {scan_id}}}')]

    scan_id = record(store, [finding("a")], queue)
    [entry] = store.alerts()
    assert (entry.scan_id, entry.notifier, entry.state, entry.payload) == (scan_id, "hook", "pending", {"scan_id": 1})

    def broken(scan_id: int, found: object) -> list[tuple[str, str]]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        record(store, [finding("b")], broken)
    assert len(store.scans()) == 1 and len(store.alerts()) == 1

    # claimed once only, even by two deliverers at the same moment
    with ThreadPoolExecutor(4) as pool:
        claims = list(pool.map(lambda _: store.claim_alert(entry.id, dt.timedelta(minutes=1)), range(4)))
    assert claims.count(True) == 1
    assert store.alerts_due(["hook"]) == []  # claimed: not due for anyone else
    store.alert_failed(entry.id, "HTTP 500", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), give_up=False)
    assert store.alerts_due(["hook"], ignore_backoff=False) == []
    assert [e.id for e in store.alerts_due(["hook"], ignore_backoff=True)] == [entry.id]
    assert store.alerts_due(["other"], ignore_backoff=True) == []  # a notifier no longer configured
    assert store.claim_alert(entry.id, dt.timedelta(minutes=1))
    store.alert_sent(entry.id)
    [done] = store.alerts()
    assert done.state == "sent" and done.attempts == 2 and done.sent_at is not None
    assert store.alert_counts() == {"sent": 1}
    assert store.next_alert_due(["hook"]) is None


def test_leases_are_all_or_nothing_expire_and_dedupe_slots(store: Store) -> None:
    ttl = dt.timedelta(minutes=10)
    status, prev = store.acquire_environments(["staging", "production"], "a", ttl)
    assert status == "acquired" and prev == {"production": None, "staging": None}
    # b wants production + dev: production is a's, so b gets neither
    assert store.acquire_environments(["production", "dev"], "b", ttl)[0] == "busy"
    assert store.acquire_environments(["dev"], "b", ttl)[0] == "acquired"
    assert store.renew_environments(["staging", "production"], "a", ttl)
    assert not store.renew_environments(["staging", "dev"], "a", ttl)
    started = store.watch_last_started()
    store.release_environments(["staging", "production"], "a")
    # a slot another watcher already started is "done"
    due = started["production"] - dt.timedelta(seconds=1)
    assert store.acquire_environments(["production"], "b", ttl, job_environment="production", due_at=due)[0] == "done"
    # an abandoned scan puts last_started back
    status, prev = store.acquire_environments(["production"], "b", ttl)
    store.release_environments(["production"], "b", restore=prev)
    assert store.watch_last_started()["production"] == started["production"]
    # an expired lease (its holder died) is free
    assert store.acquire_environments(["staging"], "dead", dt.timedelta(seconds=-1))[0] == "acquired"
    assert store.acquire_environments(["staging"], "c", ttl)[0] == "acquired"


def test_concurrent_lease_takers_get_one_winner(store: Store, store_url: str) -> None:
    barrier = threading.Barrier(4)

    def take(name: str) -> str:
        own = Store(store_url)
        try:
            barrier.wait(timeout=10)
            return own.acquire_environments(["staging", "production"], name, dt.timedelta(minutes=5))[0]
        finally:
            own.close()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(take, ["w1", "w2", "w3", "w4"]))
    assert sorted(results) == ["acquired", "busy", "busy", "busy"]


def test_failures_are_recorded(store: Store) -> None:
    store.record_scan_failure("production", ["staging", "production"], T0, T0, "state.tfstate:3: invalid JSON\nmore")
    [f] = store.scan_failures("production")
    assert f.error == "state.tfstate:3: invalid JSON more" and f.environments == ("staging", "production")
    assert store.scan_failure_counts() == {"production": 1}


CONFIG = """
environments: {dev: {}, staging: {}, production: {}}
promotion: [dev, staging, production]
watch:
  default: {every: 15m}
  environments: {production: {cron: "*/10 * * * *"}}
  timezone: Europe/Paris
"""


def test_jobs_scan_an_environment_with_its_mirror_partners() -> None:
    cfg = parse_config(CONFIG, "p.yaml")
    assert scan_set(cfg, "production") == ("staging", "production")
    assert scan_set(cfg, "staging") == ("dev", "staging", "production")
    jobs = {j.environment: j for j in make_jobs(cfg, None, T0)}
    assert jobs["dev"].due_at({}, T0) == T0  # never scanned: now
    assert jobs["dev"].due_at({"dev": T0}, T0) == T0 + dt.timedelta(minutes=15)
    assert jobs["production"].due_at({}, T0) == T0 + dt.timedelta(minutes=10)
    jobs["production"].advance(T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=31), "UTC")
    assert jobs["production"].cron_next == T0 + dt.timedelta(minutes=40)  # missed slots are skipped
    hourly = Job("x", ("x",), Schedule(cron="0 9 * * *"))
    assert next_cron(hourly.schedule.cron or "", T0, "Europe/Paris") == dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("watch: {default: {every: 5x}}", "watch.default.every: '5x' is not a duration"),
        ("watch: {default: {every: 1m, cron: '* * * * *'}}", "give exactly one of"),
        ("watch: {environments: {prod: {every: 1m}}}", "watch.environments: unknown environment 'prod'"),
        ("watch: {timezone: Mars/Olympus}", "unknown time zone"),
        ("alerts: [{kind: pager}]", "alerts[0]: an alert needs a 'kind': one of webhook, slack, email"),
        ("alerts: [{kind: webhook, url: 'ftp://x'}]", "alerts[0].url: must be an http"),
        ("alerts: [{kind: webhook, url: 'http://a'}, {kind: webhook, url: 'http://a'}]", "two notifiers named"),
        ("alerts: [{kind: email, smtp_host: h, from: a@b.c, to: []}]", "alerts[0].to"),
    ],
)
def test_config_errors_name_the_place(yaml_text: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config("environments: {staging: {}}\n" + yaml_text, "p.yaml")
    assert message in str(e.value) and str(e.value).startswith("p.yaml:2:")


def test_durations_and_secrets() -> None:
    assert parse_duration("1h30m") == 5400 and parse_duration(90) == 90 and parse_duration("0.5s") == 0.5
    assert parse_duration("3650d") == 3650 * 86400
    for huge in ("3651d", "99999999999999999999d", 1e300):
        with pytest.raises(ValueError, match="at most 3,650d"):
            parse_duration(huge)
    cfg = parse_config(
        "environments: {staging: {}}\nalerts:\n  - {kind: email, smtp_host: h, from: a@b.c, to: [x@y.z], "
        "password: hunter2-secret}\n  - {kind: slack, webhook_url: 'https://hooks.example/T/B/s3cr3t'}\n",
        "p.yaml",
    )
    shown = repr(cfg.alerts) + str(cfg.model_dump())
    assert "hunter2-secret" not in shown and "s3cr3t" not in shown
    assert all("s3cr3t" not in a.id for a in cfg.alerts)
