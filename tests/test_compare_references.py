"""Cross-environment references: accounts, hostnames, name tokens; and the noise rule's negatives."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.compare import Inventory, Rules, find_cross_env_references
from parity.compare.references import _resource_strings, _Scanner, identifier_parts
from parity.model import Resource, Snapshot

WHEN = dt.datetime(2026, 1, 1)
RULES = Rules(
    tokens={"dev": ("dev",), "staging": ("staging", "stg", "pre-prod"), "production": ("prod", "production")},
    promotion=("staging", "production"),
    accounts={"staging": ("111111111111",), "production": ("222222222222",), "dev": ("333333333333",)},
    hostnames={"production": ("example.com",), "staging": ("staging.example.com",)},
)


def inv(env: str, **attrs: Any) -> Inventory:
    res = Resource("v1/ConfigMap", f"{env}/app", f"v1/ConfigMap/{env}/app", attributes=attrs, name="app")
    return Inventory(env, (Snapshot(env, "k8s", "kubernetes-manifests", "declared", WHEN, (res,)),))


def refs(env: str, **attrs: Any) -> list[Any]:
    return find_cross_env_references([inv(env, **attrs)], RULES)


def test_staging_config_pointing_at_the_production_database() -> None:
    (f,) = refs("staging", data={"DATABASE_HOST": "db.prod.internal"})
    assert f.kind == "cross_env_reference" and f.severity == "high"
    assert f.detail == "data.DATABASE_HOST" and f.environments == ("staging", "production")
    assert "production" in f.message and "data.DATABASE_HOST" in f.message


def test_trust_policy_naming_another_account() -> None:
    pol = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111111111111:root"]}}]}
    (f,) = refs("production", assume_role_policy=pol)
    assert f.environments == ("production", "staging") and "account 111111111111" in f.message
    assert f.severity == "high"


def test_dev_reaching_production_outside_promotion_is_medium() -> None:
    (f,) = refs("dev", url="https://api.prod.example.com/v1")
    assert f.severity == "medium"  # production is in the promotion order, dev is not
    assert f.environments == ("dev", "production")


def test_hostname_most_specific_domain_wins() -> None:
    assert refs("staging", url="https://api.staging.example.com") == []
    (f,) = refs("staging", url="https://api.example.com/orders")
    assert "hostname api.example.com" in f.message


def test_own_longer_token_covers_a_foreign_one() -> None:
    assert refs("staging", host="api.pre-prod.internal") == []


@pytest.mark.parametrize(
    "attrs",
    [
        {"description": "Production database for the shop"},  # free-text key
        {"note": "copy of prod"},
        {"summary": "mirrors production"},
        {"text": "Used by the production team, see the runbook"},  # words with spaces, no structure
        {"product": "product-catalog"},  # not a whole part
        {"ref": "<redacted:222222222222>"},  # redacted markers are never scanned
        {"n": "1222222222222"},  # part of a longer number
        {"flag": "prod-like environment for tests"},  # hyphenated word in prose
    ],
)
def test_negatives(attrs: dict[str, Any]) -> None:
    assert refs("staging", **attrs) == []


def test_whole_value_token_and_embedded_file_lines() -> None:
    (f,) = refs("staging", tags_env="production")
    assert f.detail == "tags_env"
    (g,) = refs("staging", data={"app.properties": "environment = production\nlog = info\n"})
    assert g.detail == 'data["app.properties"]'
    (h,) = refs("staging", cmd="connects to db.prod.internal nightly")
    assert "db.prod.internal" in h.message


def test_tokens_shared_by_environments_are_ignored() -> None:
    rules = Rules(tokens={"staging": ("shared", "staging"), "production": ("shared", "prod")})
    found = find_cross_env_references([inv("staging", host="api.shared.internal")], rules)
    assert found == []


def test_one_finding_per_resource_and_path_across_roles() -> None:
    res = Resource("v1/ConfigMap", "staging/app", "v1/ConfigMap/staging/app", attributes={"h": "db.prod.internal"})
    i = Inventory(
        "staging",
        (
            Snapshot("staging", "a", "kubernetes-manifests", "declared", WHEN, (res,)),
            Snapshot("staging", "b", "kubernetes", "live", WHEN, (res,)),
        ),
    )
    assert len(find_cross_env_references([i], RULES)) == 1


def test_identifier_parts_heuristic() -> None:
    assert identifier_parts("db.prod.internal") == ["db.prod.internal"]
    assert identifier_parts("see db.prod.internal, then stop.") == ["db.prod.internal"]
    assert identifier_parts("Production database") == []
    assert identifier_parts("A=1\nHOST: db.x\nfree text here\n") == ["1", "db.x"]


def test_code_and_live_views_of_one_object_give_one_finding_from_the_code() -> None:
    """The declared and live copies have different keys (address vs ARN) but the same native id."""
    decl = Resource("aws_iam_role", "app", "aws_iam_role.app", attributes={"t": "arn:aws:iam::111111111111:root"},
                    location=None)  # fmt: skip
    live = Resource("aws_iam_role", "app", "arn:aws:iam::222222222222:role/app", attributes=dict(decl.attributes))
    i = Inventory(
        "production",
        (
            Snapshot("production", "aws", "aws", "live", WHEN, (live,)),
            Snapshot("production", "tf", "terraform-state", "declared", WHEN, (decl,)),
        ),
    )
    (f,) = find_cross_env_references([i], RULES)
    assert f.key == "aws_iam_role.app"


# ------------------------------------------------------------------ the serialised-text prefilter
# `find_cross_env_references` walks only resources whose serialised text holds another environment's
# account, domain or token spelling (`_Scanner.may_reach`). It must never skip a resource that the walk
# would report: checked here against the walk itself, over values built from the same vocabulary mixed
# with the characters that JSON escapes (control characters, quotes, backslashes), case changes, digits
# and separators.

_ACCOUNTS = ("111111111111", "222222222222", "333333333333", "1", "0")
_TOKENS = ("prod", "PROD", "Prod", "pRoD", "production", "staging", "stg", "pre-prod", "dev", "description")
_HOSTS = ("example.com", "staging.example.com", "EXAMPLE.COM", "api.", "db.", ".internal", "arn:aws:iam::", ":root")
_GLUE = ("/", ".", " ", "\n", "\t", "\x01", "\x1f", '"', "\\", "=", ": ", "-", "_", "é", "x")
_PIECES = st.sampled_from(_ACCOUNTS + _TOKENS + _HOSTS + _GLUE)
_TEXT = st.lists(_PIECES, max_size=8).map("".join)
_VALUES = st.recursive(
    st.one_of(_TEXT, st.integers(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(env=st.sampled_from(["dev", "staging", "production"]), attrs=st.dictionaries(_TEXT, _VALUES, max_size=4))
def test_prefilter_never_skips_what_the_walk_reports(env: str, attrs: dict[str, Any]) -> None:
    r = Resource("v1/ConfigMap", f"{env}/app", f"v1/ConfigMap/{env}/app", attributes=attrs, name="app")
    scanner = _Scanner(["dev", "staging", "production"], RULES, [])
    walked = any(scanner.reached(env, value) for _, value in _resource_strings(r))
    if walked:
        assert scanner.may_reach(env, r)


def test_prefilter_skips_resources_naming_only_their_own_environment() -> None:
    scanner = _Scanner(["dev", "staging", "production"], RULES, [])
    own = Resource("x", "1", "k", attributes={"arn": "arn:aws:iam::111111111111:role/shop-staging-app"})
    other = Resource("x", "1", "k", attributes={"arn": "arn:aws:iam::222222222222:role/shop-app"})
    assert not scanner.may_reach("staging", own)
    assert scanner.may_reach("staging", other)


def test_prefilter_finds_an_account_after_a_control_character() -> None:
    # JSON writes "\x01" as \u0001, so the account's digits follow other digits in the serialised text
    attrs = {"k": "\x01222222222222"}
    assert refs("staging", **attrs)
    scanner = _Scanner(["dev", "staging", "production"], RULES, [])
    assert scanner.may_reach("staging", Resource("x", "1", "k", attributes=attrs))


def test_batches_yield_exactly_the_resources_that_may_reach() -> None:
    scanner = _Scanner(["dev", "staging", "production"], RULES, [])
    reach_at = {0, 63, 64, 130, 199}  # batch edges, and a batch with none
    rs = [
        Resource("x", str(i), f"k{i}", attributes={"host": f"db-{i}.prod.internal" if i in reach_at else f"db-{i}"})
        for i in range(200)
    ]
    rs[100] = Resource("x", "deep", "kd", attributes={"v": 1}, tags={"owner": "team-prod"})  # reaches by a tag
    got = [r.id for r in scanner.reaching("staging", rs)]
    assert got == [r.id for r in rs if scanner.may_reach("staging", r)]
    assert got == ["0", "63", "64", "deep", "130", "199"]


def test_a_resource_with_non_string_keys_is_still_checked() -> None:
    scanner = _Scanner(["dev", "staging", "production"], RULES, [])
    r = Resource("x", "1", "k", attributes={"ports": {443: "db.prod.internal"}})
    assert scanner.may_reach("staging", r)
    assert [x.id for x in scanner.reaching("staging", [r])] == ["1"]


def test_prefilter_with_many_foreign_accounts_looks_them_up_by_digit_runs() -> None:
    # past a handful of accounts the digit runs of the text are looked up instead of each account searched
    many = Rules(
        tokens={"staging": ("staging",), "production": ("prod",)},
        accounts={
            "staging": tuple(f"1111111111{i:02d}" for i in range(20)),
            "production": tuple(f"2222222222{i:02d}" for i in range(20)),
        },
    )
    scanner = _Scanner(["staging", "production"], many, [])

    def reaches(value: str) -> bool:
        return scanner.may_reach("staging", Resource("x", "1", "k", attributes={"v": value}))

    assert reaches("arn:aws:iam::222222222219:root")
    assert reaches("\x01222222222207")  # written \u0001222222222207: the account inside a longer run
    assert reaches("id-9222222222205")  # walked, though the walk will not report it: a superset is fine
    assert not reaches("arn:aws:iam::111111111119:root")  # its own account
    assert not reaches("22222222221")  # eleven digits
