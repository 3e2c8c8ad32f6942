"""The byte-level shortcuts of the mirror comparison (unsorted serialisation, the memo) against a plain oracle."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.cli.compare_cmds import run_scan
from parity.compare import ComparisonMemo, Inventory, Rules, mirror_report
from parity.compare.diff import diff
from parity.compare.envinfo import placeholders_for
from parity.compare.mirrors import comparable
from parity.config import load_config
from parity.model import Resource, Snapshot
from parity.normalize import canonicalize, default_kb
from parity.normalize.native import compiled
from parity.normalize.placeholders import Placeholders, serialize_records
from parity.pipeline import ScanMemo
from parity.watch.runner import Watcher

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greenflash"

WHEN = dt.datetime(2026, 1, 1)
RULES = Rules(
    tokens={"staging": ("staging", "stg"), "production": ("prod", "production")},
    promotion=("staging", "production"),
    accounts={"staging": ("111111111111",), "production": ("222222222222",)},
)


def inv(env: str, resources: list[Resource]) -> Inventory:
    snap = Snapshot(env, "src", "terraform-state", "declared", WHEN, tuple(resources))
    return Inventory(env, (canonicalize(snap),))


# Strings that placeholders touch (tokens, accounts, regions, generated ids) and some they do not.
WORDS = st.sampled_from(
    [
        "shop-{e}",
        "arn:aws:iam::{a}:role/app-{e}",
        "{r}",
        "db.{e}.internal",
        "sg-0123456789abcdef0",
        "sg-0fedcba987654321f",
        "plain",
        "x",
        "",
    ]
)
VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | WORDS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "name", "{e}-k"]), inner, max_size=3)
    ),
    max_leaves=8,
)
ATTRS = st.dictionaries(st.sampled_from(["a", "b", "c", "policy", "name"]), VALUE, max_size=4)
ENV = {
    "staging": {"e": "staging", "a": "111111111111", "r": "eu-west-1"},
    "production": {"e": "prod", "a": "222222222222", "r": "us-east-1"},
}


def fill(value: Any, env: str) -> Any:
    """A template value written out for one environment (its token, account, region)."""
    if isinstance(value, str):
        return value.format(**ENV[env])
    if isinstance(value, list):
        return [fill(v, env) for v in value]
    if isinstance(value, dict):
        return {fill(k, env): fill(v, env) for k, v in value.items()}
    return value


def reversed_keys(value: Any) -> Any:
    """The same value with every mapping's keys in reverse order (equal content, other bytes)."""
    if isinstance(value, dict):
        return {k: reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value


def side(env: str, templates: list[dict[str, Any]], reorder: list[bool]) -> list[Resource]:
    out = []
    for i, t in enumerate(templates):
        attrs = fill(t, env)
        if reorder[i % len(reorder)]:
            attrs = reversed_keys(attrs)
        out.append(Resource(type="aws_thing", id=f"thing-{i}", key=f"aws_thing.t{i}", attributes=attrs))
    return out


def oracle(left: Inventory, right: Inventory) -> set[str]:
    """Keys of the pairs that differ, from the value form of the placeholders and the path diff alone."""
    kb = default_kb()
    ph_l = placeholders_for(left, RULES, (right,))
    ph_r = placeholders_for(right, RULES, (left,))
    rs = {r.key: r for r in right.resources()}
    return {
        a.key
        for a in left.resources()
        if a.key in rs
        and diff(ph_l.apply(comparable(a, kb)), ph_r.apply(comparable(rs[a.key], kb)), kb.for_type(a.type).canonical)
    }


def differing(result: Any) -> set[str]:
    return {f.key for f in result.findings if f.kind == "differs"}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(ATTRS, ATTRS, st.booleans()), min_size=1, max_size=8),
    st.lists(st.booleans(), min_size=1, max_size=3),
    st.lists(st.booleans(), min_size=1, max_size=3),
)
def test_byte_shortcuts_and_memo_agree_with_the_value_oracle(
    specs: list[tuple[dict[str, Any], dict[str, Any], bool]], order_l: list[bool], order_r: list[bool]
) -> None:
    """Unsorted bytes, the sorted re-check and the memo (cold, warm, after a change) find what the oracle finds."""
    left_t = [a for a, _, _ in specs]
    right_t = [a if same else b for a, b, same in specs]
    left = inv("staging", side("staging", left_t, order_l))
    right = inv("production", side("production", right_t, order_r))
    expected = oracle(left, right)
    assert differing(mirror_report(left, right, RULES)) == expected
    memo = ComparisonMemo()
    cold = mirror_report(left, right, RULES, memo=memo)
    warm = mirror_report(left, right, RULES, memo=memo)
    assert differing(cold) == differing(warm) == expected
    assert cold.findings == warm.findings
    # the next scan: production changed its first resource; the memo must not answer for the old content
    changed = [{**right_t[0], "c": "changed-{e}"}, *right_t[1:]]
    right2 = inv("production", side("production", changed, order_r))
    assert differing(mirror_report(left, right2, RULES, memo=memo)) == oracle(left, right2)


def test_same_content_in_another_key_order_is_equal() -> None:
    a = {"name": "shop-staging", "config": {"x": 1, "y": [1, 2], "z": "arn:aws:iam::111111111111:role/r"}}
    b = {"config": {"z": "arn:aws:iam::222222222222:role/r", "y": [1, 2], "x": 1}, "name": "shop-prod"}
    left = inv("staging", [Resource(type="t", id="i", key="k", attributes=a)])
    right = inv("production", [Resource(type="t", id="i", key="k", attributes=b)])
    assert mirror_report(left, right, RULES).findings == ()
    assert mirror_report(left, right, RULES, memo=ComparisonMemo()).findings == ()


def test_memo_substitutes_only_unseen_content_and_keeps_profiles_apart() -> None:
    res = [Resource(type="t", id=f"i{i}", key=f"k{i}", attributes={"name": f"app-{i}-staging"}) for i in range(5)]
    prod = [Resource(type="t", id=f"i{i}", key=f"k{i}", attributes={"name": f"app-{i}-prod"}) for i in range(5)]
    left, right = inv("staging", res), inv("production", prod)
    memo = ComparisonMemo()
    assert mirror_report(left, right, RULES, memo=memo).findings == ()
    assert (memo.hits, memo.misses) == (0, 10)
    assert mirror_report(left, right, RULES, memo=memo).findings == ()
    assert (memo.hits, memo.misses) == (10, 10)
    # Production's token is now "live" (another profile): "prod" is no longer a placeholder there, so
    # every pair differs, whatever the memo learnt under the old profile.
    other = Rules(tokens={"staging": ("staging",), "production": ("live",)}, accounts=RULES.accounts)
    assert len(mirror_report(left, right, other, memo=memo).findings) == 5
    assert len(mirror_report(left, right, other).findings) == 5


def test_memo_tables_are_bounded() -> None:
    ph = Placeholders(["prod"], ["222222222222"])
    memo = ComparisonMemo(max_profiles=2)
    for round_ in range(3):  # three comparisons of entirely new content, each larger than the slack allows
        records = serialize_records([{"n": f"{round_}-{i}-prod"} for i in range(12_000)])
        got = memo.digests(ph, records)
        assert got == memo.digests(ph, records)  # a second look answers from the memo, the same
        assert len(memo) <= 2 * len(records) + 10_000
    for tokens in (["a"], ["b"], ["c"]):
        memo.digests(Placeholders(tokens), [b'{"x":1}'])
    assert len(memo._tables) == 2


def test_watch_compares_through_one_memo_across_scans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watcher keeps a memo per job (with the Python walks: see the next test); a scan through it reports
    what a scan without it reports."""
    monkeypatch.setenv("PARITY_PURE_PYTHON", "1")
    demo = tmp_path / "greenflash"
    shutil.copytree(EXAMPLE, demo)
    cfg = demo / "parity.yaml"
    cfg.write_text(cfg.read_text() + "\nwatch: {default: {every: 1h}}\n")
    loaded = load_config(cfg)
    watcher = Watcher(loaded, once=True, alerts=False, log=lambda _line: None)
    assert watcher.run() == 0
    (memo,) = watcher.memos.values()  # greenflash: one job, staging with its mirror production
    assert memo.comparison is not None and memo.canonical is not None
    assert memo.comparison.misses > 0 and memo.comparison.hits == 0  # the first scan saw everything first
    assert memo.canonical.misses > 0 and memo.canonical.hits == 0
    plain = run_scan(loaded, None, progress=False)
    again = run_scan(loaded, None, progress=False, memo=memo)
    assert memo.comparison.hits > 0 and memo.canonical.hits == memo.canonical.misses  # nothing changed
    assert [f.id for f in again.findings] == [f.id for f in plain.findings]


@pytest.mark.parametrize("pure", [False, True], ids=["compiled", "python"])
def test_the_memos_are_kept_for_the_python_walks_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pure: bool
) -> None:
    """With the compiled walks, a watched scan runs as a first scan does, canonicalising as it reads (no memos,
    nothing kept per job); with the Python walks, the memos answer for unchanged resources. Either way, in
    this process."""
    if not pure and compiled() is None:
        pytest.skip("the compiled walk is not built here")
    if pure:
        monkeypatch.setenv("PARITY_PURE_PYTHON", "1")
    from parity import parallel

    def no_children(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a watched scan collected in child processes")

    monkeypatch.setattr(parallel, "collect_in_processes", no_children)
    monkeypatch.setenv("PARITY_JOBS", "4")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)  # every environment would go to a child
    demo = tmp_path / "greenflash"
    shutil.copytree(EXAMPLE, demo)
    loaded = load_config(demo / "parity.yaml")
    memo = ScanMemo()
    first = run_scan(loaded, None, progress=False, memo=memo)
    again = run_scan(loaded, None, progress=False, memo=memo)
    if pure:
        assert memo.canonical is not None and memo.canonical.misses > 0
        assert memo.canonical.hits == memo.canonical.misses  # the second scan: every resource known
        assert memo.comparison is not None and memo.comparison.hits > 0
    else:
        assert memo.canonical is None and memo.comparison is None
    assert [f.id for f in again.findings] == [f.id for f in first.findings]


def test_a_change_between_watched_scans_is_found_through_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scan, change one setting in production, scan again through the same memo: the new difference is
    reported, exactly as a scan without the memo reports it."""
    demo = tmp_path / "greenflash"
    shutil.copytree(EXAMPLE, demo)
    loaded = load_config(demo / "parity.yaml")
    monkeypatch.setenv("PARITY_PURE_PYTHON", "1")  # where the memos are kept
    memo = ScanMemo()
    first = run_scan(loaded, None, progress=False, memo=memo)
    values = demo / "config" / "production" / "values-production.yaml"
    values.write_text(values.read_text().replace('tag: "3.1.0"', 'tag: "3.1.1-hotfix"'))
    again = run_scan(loaded, None, progress=False, memo=memo)
    plain = run_scan(loaded, None, progress=False)
    assert memo.canonical is not None and memo.comparison is not None
    assert memo.canonical.hits > 0 and memo.comparison.hits > 0
    assert [(f.id, f.changes) for f in again.findings] == [(f.id, f.changes) for f in plain.findings]

    def tag_changes(report: Any) -> list[Any]:
        return [c for f in report.findings for c in f.changes if c.path.endswith("image.tag")]

    assert tag_changes(first) == []
    assert [(c.left, c.right) for c in tag_changes(again)] == [("3.1.0", "3.1.1-hotfix")]
