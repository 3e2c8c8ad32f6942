"""Ignore rules: whole findings, path-scoped changes, expiry notes, environment scoping."""

from __future__ import annotations

import datetime as dt

from parity.compare import Rules, apply_ignores
from parity.config import Ignore
from parity.model import Change, Finding

TODAY = dt.date(2026, 3, 1)


def finding(kind: str = "differs", changes: tuple[Change, ...] = (), detail: str = "", key: str = "k") -> Finding:
    return Finding(
        kind=kind,
        severity="high",
        type="aws_iam_role",
        key=key,
        environments=("staging", "production"),  # type: ignore[arg-type]
        resources={},
        message="m",
        changes=changes,
        detail=detail,
    )


def rules(*ignores: Ignore) -> Rules:
    return Rules(tokens={}, ignore=ignores, today=TODAY)


def ign(**kw: object) -> Ignore:
    base: dict[str, object] = {"owner": "ana", "reason": "migration", "expires": dt.date(2026, 6, 1)}
    return Ignore(**{**base, **kw})  # type: ignore[arg-type]


def test_active_rule_suppresses_the_whole_finding() -> None:
    res = apply_ignores([finding(), finding(key="other")], rules(ign(key="k")))
    assert [f.key for f in res.kept] == ["other"]
    (ignored,) = res.ignored
    assert [(s.rule, s.owner, s.expires) for s in ignored.suppressed] == [("ignore", "ana", "2026-06-01")]


def test_rule_expiring_today_is_still_active_and_yesterday_is_expired() -> None:
    assert apply_ignores([finding()], rules(ign(expires=TODAY))).kept == ()
    res = apply_ignores([finding()], rules(ign(expires=dt.date(2026, 2, 28))))
    (f,) = res.kept
    note = "ignore rule expired on 2026-02-28 (owner: ana, reason: migration)"
    assert f.notes == (note,) and res.notes == (note,) and res.ignored == ()


def test_path_rule_removes_only_matching_changes_and_recomputes_severity() -> None:
    changes = (
        Change("assume_role_policy.Statement[0].Action[s3:*]", None, "s3:*"),
        Change("max_session_duration", 3600, 7200),
    )
    f = Finding(
        kind="differs",
        severity="high",
        type="aws_s3_bucket",
        key="k",
        environments=("staging", "production"),
        resources={},
        message="m",
        changes=changes,
    )
    (kept,) = apply_ignores([f], rules(ign(path="assume_role_policy.*"))).kept
    assert [c.path for c in kept.changes] == ["max_session_duration"]
    assert kept.severity == "medium"
    assert [s.change.path for s in kept.suppressed if s.change] == ["assume_role_policy.Statement[0].Action[s3:*]"]


def test_path_rule_covering_every_change_suppresses_the_finding() -> None:
    f = finding(changes=(Change("tags.owner", "a", "b"),))
    res = apply_ignores([f], rules(ign(path="tags.*")))
    assert res.kept == () and len(res.ignored) == 1


def test_path_rule_on_a_reference_matches_its_detail() -> None:
    f = finding(kind="cross_env_reference", detail="data.DATABASE_HOST")
    assert apply_ignores([f], rules(ign(path="data.DATABASE_*"))).kept == ()
    assert apply_ignores([f], rules(ign(path="data.OTHER"))).kept == (f,)


def test_kind_and_environment_scoping() -> None:
    f = finding()
    assert apply_ignores([f], rules(ign(kind="only_in"))).kept == (f,)
    assert apply_ignores([f], rules(ign(environments=["staging"]))).kept == (f,)
    assert apply_ignores([f], rules(ign(environments=["staging", "production"]))).kept == ()
