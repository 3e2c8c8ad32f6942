"""Canonical IAM policy shapes: spellings IAM treats alike canonicalise equal, different principals stay
different (``"Principal": "*"`` is ``{"AWS": "*"}``; a single string is its one-element list)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.normalize import canonical_attributes

pytestmark = pytest.mark.usefixtures("both_walkers")  # the C walk and the Python one it ports

# (principal type, value) pairs a principal is built from; ("AWS", "*") is the wildcard
PAIRS = (
    ("AWS", "*"),
    ("AWS", "arn:aws:iam::111122223333:root"),
    ("AWS", "arn:aws:iam::111122223333:role/deploy"),
    ("AWS", "444455556666"),
    ("Service", "ec2.amazonaws.com"),
    ("Service", "lambda.amazonaws.com"),
    ("Federated", "arn:aws:iam::111122223333:saml-provider/okta"),
    ("CanonicalUser", "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"),
)
WILDCARD = frozenset({("AWS", "*")})


def canon(attrs: dict[str, Any]) -> dict[str, Any]:
    return canonical_attributes("aws_iam_role", attrs)


def trust(principal: Any, action: Any = "sts:AssumeRole", key: str = "Principal") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", key: principal, "Action": action}]}


def test_wildcard_principal_spellings_are_equal() -> None:
    spellings = ["*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": ["*", "*"]}]
    got = [canon({"assume_role_policy": trust(p)}) for p in spellings]
    assert all(g == got[0] for g in got)
    assert got[0]["assume_role_policy"]["Statement"][0]["Principal"] == {"AWS": ["*"]}
    # the same as JSON strings, as IAM's API and Terraform states hold them
    assert canon({"assume_role_policy": json.dumps(trust("*"))}) == got[0]


def test_wildcard_is_not_another_principal() -> None:
    star = canon({"p": trust("*")})
    assert star != canon({"p": trust({"AWS": "arn:aws:iam::111122223333:root"})})
    assert star != canon({"p": trust({"Service": "*"})})
    assert star != canon({"p": trust({"AWS": "*", "Service": "ec2.amazonaws.com"})})


def test_not_principal_and_non_policy_values_are_left_alone() -> None:
    # NotPrincipal's wildcard is not documented as {"AWS": "*"}: kept as written
    assert canon({"p": trust("*", key="NotPrincipal")})["p"]["Statement"][0]["NotPrincipal"] == "*"
    # a "Principal" outside a policy document (no Statement) is ordinary data
    assert canon({"p": {"Principal": "*"}}) == {"p": {"Principal": "*"}}


def test_canonical_policy_is_idempotent() -> None:
    once = canon({"p": trust("*", ["sts:TagSession", "sts:AssumeRole"])})
    assert canon(once) == once


@st.composite
def spelling(draw: st.DrawFn, meaning: frozenset[tuple[str, str]]) -> Any:
    """One way to write ``meaning`` (a set of (type, value)) as IAM accepts it."""
    if meaning == WILDCARD and draw(st.booleans()):
        return "*"
    by_type: dict[str, list[str]] = {}
    for t, v in sorted(meaning):
        by_type.setdefault(t, []).append(v)
    out: dict[str, Any] = {}
    for t in draw(st.permutations(sorted(by_type))):
        values = list(draw(st.permutations(by_type[t])))
        if draw(st.booleans()):
            values.append(values[0])  # a repeated value means nothing in IAM
        out[t] = values[0] if len(values) == 1 and draw(st.booleans()) else values
    return out


@st.composite
def policy(draw: st.DrawFn, principal: st.SearchStrategy[Any], actions: list[str]) -> Any:
    """A one-statement policy with ``principal``, its actions and resource spelt either way, maybe as JSON text."""
    acts = list(draw(st.permutations(actions)))
    action: Any = acts[0] if len(acts) == 1 and draw(st.booleans()) else acts
    resource: Any = draw(st.sampled_from(["*", ["*"]]))
    statement = {"Effect": "Allow", "Principal": draw(principal), "Action": action, "Resource": resource}
    doc = {"Version": "2012-10-17", "Statement": statement if draw(st.booleans()) else [statement]}
    return json.dumps(doc) if draw(st.booleans()) else doc


MEANING = st.frozensets(st.sampled_from(PAIRS), min_size=1, max_size=4)
ACTIONS = st.lists(st.sampled_from(["sts:AssumeRole", "sts:TagSession", "s3:GetObject"]), min_size=1,
                   max_size=3, unique=True)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.data(), MEANING, ACTIONS)
def test_equivalent_spellings_canonicalise_equal(data: st.DataObject, meaning: Any, actions: list[str]) -> None:
    a = data.draw(policy(spelling(meaning), actions))
    b = data.draw(policy(spelling(meaning), actions))
    assert canon({"p": a}) == canon({"p": b})


@settings(max_examples=200, deadline=None)
@given(st.data(), MEANING, MEANING, ACTIONS)
def test_different_principals_stay_different(data: st.DataObject, m1: Any, m2: Any, actions: list[str]) -> None:
    if m1 == m2:
        return
    a = data.draw(policy(spelling(m1), actions))
    b = data.draw(policy(spelling(m2), actions))
    assert canon({"p": a}) != canon({"p": b})


@settings(max_examples=100, deadline=None)
@given(st.data(), ACTIONS)
def test_bare_wildcard_equals_its_aws_form(data: st.DataObject, actions: list[str]) -> None:
    """The case the properties above reach only sometimes: ``"*"`` against any other spelling of it."""
    a = data.draw(policy(st.just("*"), actions))
    b = data.draw(policy(spelling(WILDCARD).filter(lambda p: p != "*"), actions))
    assert canon({"p": a}) == canon({"p": b})
