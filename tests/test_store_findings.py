"""The finding lifecycle in the store, on SQLite and PostgreSQL: statuses over scans, acceptances, annotate."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from parity.errors import UsageError
from parity.model import Change, Coverage, CoverageGap, Finding, Resource, Snapshot
from parity.store import RecordedScan, Store

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 3, 1)
BOTH = ("staging", "production")


def finding(key: str, envs: tuple[str, ...] = BOTH, **kw: Any) -> Finding:
    fields: dict[str, Any] = {
        "kind": "differs",
        "severity": "high",
        "type": "aws_s3_bucket",
        "resources": {e: f"{key}-{e}" for e in envs},
        "message": f"{key} differs",
        "changes": (Change("versioning", True, False),),
    }
    return Finding(key=key, environments=envs, **{**fields, **kw})


def snap(env: str, coverage: Coverage | None = None) -> Snapshot:
    r = Resource(type="aws_s3_bucket", id="b", key="aws_s3_bucket.b", attributes={"x": 1})
    return Snapshot(env, "aws", "aws", "live", T0, (r,), coverage or Coverage())


def scan(
    store: Store,
    findings: Sequence[Finding],
    n: int,
    envs: Sequence[str] = BOTH,
    *,
    today: dt.date = TODAY,
    snapshots: Sequence[Snapshot] = (),
) -> RecordedScan:
    at = T0 + dt.timedelta(days=n)
    return store.record_scan(
        environments=envs, snapshots=snapshots, findings=findings, started_at=at, finished_at=at, today=today
    )


def by_key(findings: Sequence[Finding]) -> dict[str, Finding]:
    return {f.key: f for f in findings}


def statuses(findings: Sequence[Finding]) -> dict[str, str]:
    return {f.key: f.status for f in findings}


def test_new_open_resolved_recurring(store: Store) -> None:
    a, b = finding("a"), finding("b")
    s1 = scan(store, [a, b], 1)
    assert statuses(s1.findings) == {"a": "new", "b": "new"}
    assert all(f.first_seen == f.last_seen == T0 + dt.timedelta(days=1) for f in s1.findings)

    s2 = scan(store, [a], 2)
    assert statuses(s2.findings) == {"a": "open"}
    assert [(f.key, f.status) for f in s2.resolved] == [("b", "resolved")]
    got = by_key(s2.findings)["a"]
    assert got.first_seen == T0 + dt.timedelta(days=1) and got.last_seen == T0 + dt.timedelta(days=2)

    s3 = scan(store, [a, b], 3)
    assert statuses(s3.findings) == {"a": "open", "b": "recurring"}
    assert by_key(s3.findings)["b"].first_seen == T0 + dt.timedelta(days=1)  # kept across the resolution
    assert s3.resolved == ()

    s4 = scan(store, [a, b], 4)
    assert statuses(s4.findings) == {"a": "open", "b": "open"}

    s5 = scan(store, [], 5)
    assert sorted(f.key for f in s5.resolved) == ["a", "b"]
    assert statuses(store.findings()) == {"a": "resolved", "b": "resolved"}
    assert store.findings(status="open") == []
    assert store.scans()[0].findings == {"resolved": 2}


def test_the_payload_follows_the_latest_occurrence(store: Store) -> None:
    scan(store, [finding("a", message="first words")], 1)
    scan(store, [finding("a", message="second words", severity="critical")], 2)
    (stored,) = store.findings()
    assert (stored.message, stored.severity, stored.status) == ("second words", "critical", "open")
    assert stored.changes == (Change("versioning", True, False),)


def test_a_partial_scan_does_not_resolve_what_it_did_not_look_at(store: Store) -> None:
    both, staging_only, prod_only = finding("both"), finding("st", ("staging",)), finding("pr", ("production",))
    scan(store, [both, staging_only, prod_only], 1)

    partial = scan(store, [], 2, envs=["staging"])
    assert [f.key for f in partial.resolved] == ["st"]
    assert statuses(store.findings()) == {"both": "new", "pr": "new", "st": "resolved"}

    full = scan(store, [], 3)
    assert sorted(f.key for f in full.resolved) == ["both", "pr"]


def test_a_coverage_gap_does_not_resolve_findings_of_that_type(store: Store) -> None:
    a = finding("a")
    other = dataclasses.replace(finding("o"), type="aws_iam_role")
    scan(store, [a, other], 1)
    gap = Coverage(gaps=(CoverageGap("eu-west-1", "AccessDenied", "aws_s3_bucket", "denied"),))
    rec = scan(store, [], 2, snapshots=[snap("staging"), snap("production", gap)])
    assert [f.key for f in rec.resolved] == ["o"]  # the IAM finding is proved gone, the bucket one is not
    assert statuses(store.findings()) == {"a": "new", "o": "resolved"}


def test_acceptance_until_expiry_then_back_with_a_note(store: Store) -> None:
    a, b = finding("a"), finding("b")
    scan(store, [a, b], 1)
    expires = TODAY + dt.timedelta(days=10)
    accepted = store.accept(a.id, owner="ana", reason="prod sized for load", expires=expires, today=TODAY)
    assert accepted.status == "accepted"
    assert statuses(store.findings(today=TODAY)) == {"a": "accepted", "b": "new"}
    assert [f.key for f in store.findings(status="accepted", today=TODAY)] == ["a"]

    on_the_day = scan(store, [a, b], 2, today=expires)
    assert statuses(on_the_day.findings) == {"a": "accepted", "b": "open"}

    after = scan(store, [a, b], 3, today=expires + dt.timedelta(days=1))
    got = by_key(after.findings)["a"]
    assert got.status == "open"
    assert f"acceptance by ana expired on {expires.isoformat()}" in got.notes
    later = by_key(store.findings(today=expires + dt.timedelta(days=1)))["a"]
    assert later.status == "open" and any("expired" in n for n in later.notes)
    # the stored view judges expiry by date, even without a new scan
    assert by_key(store.findings(today=expires))["a"].status == "accepted"

    # a fresh acceptance wins over the expired one
    store.accept(a.id[:8], owner="bo", reason="still load", expires=expires + dt.timedelta(days=30), today=expires)
    assert by_key(store.findings(today=expires + dt.timedelta(days=2)))["a"].status == "accepted"


def test_accepted_findings_resolve_and_come_back_as_recurring(store: Store) -> None:
    a = finding("a")
    scan(store, [a], 1)
    store.accept(a.id, owner="ana", reason="r", expires=TODAY + dt.timedelta(days=1), today=TODAY)
    gone = scan(store, [], 2)
    assert [(f.key, f.status) for f in gone.resolved] == [("a", "resolved")]
    back = scan(store, [a], 3, today=TODAY + dt.timedelta(days=5))
    got = by_key(back.findings)["a"]
    assert got.status == "recurring" and any("expired" in n for n in got.notes)


def test_annotate_computes_statuses_without_writing(store: Store) -> None:
    a, b, c = finding("a"), finding("b"), finding("c")
    scan(store, [a, b], 1)
    scan(store, [a], 2)  # b resolved
    store.accept(a.id, owner="ana", reason="r", expires=TODAY, today=TODAY)
    before = (store.storage_stats(), store.findings(today=TODAY), store.scans())

    shown = store.annotate([a, b, c], today=TODAY)

    assert [f.status for f in shown] == ["accepted", "recurring", "new"]
    assert shown[0].first_seen == T0 + dt.timedelta(days=1)
    assert shown[2].first_seen is None
    assert (store.storage_stats(), store.findings(today=TODAY), store.scans()) == before
    expired = store.annotate([a], today=TODAY + dt.timedelta(days=1))
    assert expired[0].status == "open" and any("expired" in n for n in expired[0].notes)
    # what annotate predicts is what recording gives
    recorded = scan(store, [a, b, c], 3, today=TODAY)
    assert statuses(recorded.findings) == {f.key: f.status for f in shown}


def test_findings_filters(store: Store) -> None:
    scan(store, [finding("both"), finding("st", ("staging",)), finding("dev", ("dev",))], 1, envs=["staging", "dev"])
    assert sorted(f.key for f in store.findings(environment="staging")) == ["both", "st"]
    assert sorted(f.key for f in store.findings(environment="dev")) == ["dev"]
    assert store.findings(environment="nowhere") == []
    with pytest.raises(UsageError, match="unknown finding status"):
        store.findings(status="bogus")


def _colliding_pair() -> tuple[Finding, Finding]:
    """Two findings whose ids share their first 6 characters (a birthday search over keys)."""
    seen: dict[str, Finding] = {}
    for i in itertools.count():
        f = finding(f"k{i}", ("production",))
        other = seen.setdefault(f.id[:6], f)
        if other is not f:
            return other, f
    raise AssertionError("unreachable")


def test_accept_by_prefix_unknown_and_ambiguous(store: Store) -> None:
    x, y = _colliding_pair()
    z = finding("z")
    scan(store, [x, y, z], 1)
    expires = TODAY + dt.timedelta(days=3)

    assert store.accept(z.id[:6], owner="ana", reason="r", expires=expires, today=TODAY).key == "z"
    assert store.accept(z.id.upper(), owner="ana", reason="r", expires=expires, today=TODAY).key == "z"
    with pytest.raises(UsageError, match="ambiguous"):
        store.accept(x.id[:6], owner="ana", reason="r", expires=expires, today=TODAY)
    longer = next(n for n in range(7, 17) if x.id[:n] != y.id[:n])
    assert store.accept(x.id[:longer], owner="ana", reason="r", expires=expires, today=TODAY).key == x.key
    assert statuses(store.findings(today=TODAY)) == {x.key: "accepted", y.key: "new", "z": "accepted"}

    unknown = "0123456789abcdef" if "0123456789abcdef" not in {x.id, y.id, z.id} else "fedcba9876543210"
    for bad, match in [
        (unknown, "no finding"),
        (z.id[:5], "at least"),
        ("not-hex!", "at least"),
        ("", "at least"),
    ]:
        with pytest.raises(UsageError, match=match):
            store.accept(bad, owner="ana", reason="r", expires=expires, today=TODAY)
    with pytest.raises(UsageError, match="past"):
        store.accept(z.id, owner="ana", reason="r", expires=TODAY - dt.timedelta(days=1), today=TODAY)
    with pytest.raises(UsageError, match="owner"):
        store.accept(z.id, owner=" ", reason="r", expires=expires, today=TODAY)
    with pytest.raises(UsageError, match="reason"):
        store.accept(z.id, owner="ana", reason="", expires=expires, today=TODAY)
    assert store.storage_stats()["acceptances"] == 3
