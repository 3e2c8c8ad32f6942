"""The C canonical walk (parity.normalize._cwalk) against the Python walk it ports, which is the reference:
the same output, key order, types and errors on generated values and rule tries, and the input untouched."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity import __version__ as parity_version
from parity.model import MAX_DEPTH, json_in_text
from parity.normalize import canonical, default_kb
from parity.normalize.noise import RuleNode

try:
    from parity.normalize import _cwalk
except ImportError:  # not built: the walker tests below say why they skip
    _cwalk = None  # type: ignore[assignment]


def _compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


needs_c = pytest.mark.skipif(
    _cwalk is None, reason="the C walk is not built here (no C compiler at install time?): nothing to compare"
)


def c_walk(value: Any, rules: RuleNode | None) -> Any:
    assert _cwalk is not None
    # as canonical.walker() does (which, under PARITY_PURE_PYTHON, does not)
    _cwalk.configure(canonical.NestingError, json_in_text, orjson.dumps, canonical._SORT_OPTS, MAX_DEPTH)
    return _cwalk.walk(value, rules)


@pytest.mark.skipif(bool(os.environ.get("PARITY_PURE_PYTHON")), reason="PARITY_PURE_PYTHON is set")
def test_the_c_walk_is_built_and_used_where_a_compiler_exists() -> None:
    if _compiler() is None:
        pytest.skip("no C compiler on this machine: the pure-Python walk is the one in use, by design")
    assert _cwalk is not None, "a C compiler exists but parity.normalize._cwalk was not built: run `make setup`"
    assert canonical.walker() is _cwalk.walk


def test_parity_pure_python_selects_the_python_walk() -> None:
    code = "from parity.normalize import canonical; print(canonical.walker() is canonical._walk)"
    env = {**os.environ, "PARITY_PURE_PYTHON": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


# ------------------------------------------------------------------------------------ generators
POLICY_KEYS = ["Statement", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal"]
KEYS = st.sampled_from(["a", "b", "c", "spec", "Effect", "Condition", "AWS", "Service", "StringEquals", *POLICY_KEYS])
COLLIDING = st.sampled_from([0, 1, True, False, 1.0, 0.0, -0.0, "1", "0", "", None, []])  # equal, not in type
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(-(2**63), 2**63 - 1),
    st.just(2**64),  # past what orjson writes: the sort key fails alike in both
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    COLLIDING,
    st.sampled_from(["", "*", "a", "b", "s3:GetObject", "[1]", "[]", "{}", "{x", "%7Bx", "[ ", '{"a": null}  \n']),
    st.text(max_size=6),
)


@st.composite
def _with_twins(draw: st.DrawFn, kids: st.SearchStrategy[Any]) -> list[Any]:
    """A list holding a copy of one of its items, dicts with their keys in another order: set members
    that sort alike but are not the same object or spelling."""
    items = draw(st.lists(kids, min_size=1, max_size=3))
    twin = items[draw(st.integers(0, len(items) - 1))]
    if isinstance(twin, dict):
        twin = dict(reversed(list(twin.items())))
    items.insert(draw(st.integers(0, len(items))), copy.deepcopy(twin))
    return items


def _jsonish(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda kids: st.lists(kids, max_size=4) | _with_twins(kids) | st.dictionaries(KEYS, kids, max_size=5),
        max_leaves=20,
    )


_MEMBERS = st.sampled_from(["*", "s3:GetObject", "s3:*", "arn:aws:s3:::b/*", 1, None, ""]) | COLLIDING
_SETS = _MEMBERS | st.lists(_MEMBERS, max_size=3) | _with_twins(_MEMBERS | st.dictionaries(KEYS, _MEMBERS))
_PRINCIPALS = st.sampled_from(["*", "arn:aws:iam::111122223333:root", None]) | st.dictionaries(
    st.sampled_from(["AWS", "Service", "Federated"]), _SETS, max_size=2
)
STATEMENTS = st.fixed_dictionaries(
    {},
    optional={
        "Sid": st.sampled_from(["", "S1"]),
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": _SETS,
        "NotAction": _SETS,
        "Resource": _SETS,
        "NotResource": _SETS,
        "Principal": _PRINCIPALS,
        "NotPrincipal": _PRINCIPALS,
        "Condition": st.dictionaries(
            st.sampled_from(["StringEquals", "Bool"]),
            st.dictionaries(st.sampled_from(["aws:a", "k"]), _SETS) | _MEMBERS,
        ),
    },
)
POLICIES = st.fixed_dictionaries(
    {"Statement": STATEMENTS | st.lists(STATEMENTS | _MEMBERS, max_size=3) | _with_twins(STATEMENTS) | _MEMBERS},
    optional={"Version": st.just("2012-10-17")},
)
PLAIN = _jsonish(SCALARS | POLICIES)


# strings that hold JSON documents, plain and URL-encoded, as IAM and Terraform write policies
def _text(v: Any) -> str:
    return json.dumps(v)


EMBEDDED = PLAIN.map(_text).filter(lambda s: s[:1] in "{[") | PLAIN.filter(lambda v: isinstance(v, dict)).map(
    lambda v: quote(_text(v))
)
VALUES = _jsonish(SCALARS | EMBEDDED | POLICIES)


@st.composite
def rule_tries(draw: st.DrawFn, depth: int = 3) -> RuleNode:
    node = RuleNode(
        drop=draw(st.booleans()) if depth < 3 else False,
        unordered=draw(st.booleans()),
        default=(draw(COLLIDING | SCALARS | st.lists(SCALARS, max_size=2)),) if draw(st.booleans()) else None,
    )
    if depth > 0:
        for k in draw(st.lists(KEYS, max_size=3, unique=True)):
            node.keys[k] = draw(rule_tries(depth - 1))
        if draw(st.integers(0, 3)) == 0:
            node.any_key = draw(rule_tries(depth - 1))
        if draw(st.booleans()):
            node.items = draw(rule_tries(depth - 1))
    return node


RULES = st.none() | rule_tries()


def exact(v: Any) -> Any:
    """``v`` as nested tuples that tell key order and ``1`` / ``1.0`` / ``True`` apart."""
    if isinstance(v, dict):
        return (type(v).__name__, tuple((exact(k), exact(x)) for k, x in v.items()))
    if isinstance(v, list | tuple):
        return (type(v).__name__, tuple(exact(x) for x in v))
    return (type(v).__name__, repr(v))


def outcome(walk: Any, value: Any, rules: RuleNode | None) -> tuple[str, Any]:
    try:
        got = walk(value, rules)
    except Exception as e:  # the same error, with the same message, is part of the contract
        return ("error", (type(e).__name__, str(e)))
    return ("ok", exact(got))


def _kb_types() -> list[str]:
    return sorted({m.replace("*", "x") for e in default_kb().entries for m in e.match})


@st.composite
def shaped(draw: st.DrawFn, node: RuleNode | None, depth: int = 0) -> Any:
    """A value following a rule trie's shape (so that its rules apply), with random parts around it."""
    if node is not None and node.default is not None and draw(st.booleans()):
        return draw(st.just(copy.deepcopy(node.default[0])) | COLLIDING)  # the default, or equal to it
    if node is None or depth > 6 or (not node.keys and node.items is None) or draw(st.integers(0, 4)) == 0:
        return draw(COLLIDING | VALUES)
    if node.items is not None and draw(st.booleans()):
        return draw(st.lists(shaped(node.items, depth + 1), max_size=3))
    out = draw(st.dictionaries(KEYS, VALUES, max_size=2))
    for k, child in node.keys.items():
        if draw(st.booleans()):
            out[k] = draw(shaped(child, depth + 1))
    return out


# --------------------------------------------------------------------------------------- the port
@needs_c
@settings(max_examples=1500, deadline=None)
@given(RULES.flatmap(lambda r: st.tuples(st.just(r), VALUES | shaped(r))))
def test_c_walk_equals_the_python_walk(case: tuple[RuleNode | None, Any]) -> None:
    rules, value = case
    before = copy.deepcopy(value)
    want = outcome(canonical._walk, value, rules)
    got = outcome(c_walk, value, rules)
    assert got == want  # key order and int/float/bool are compared too
    assert exact(value) == exact(before)  # the input is never modified


@needs_c
@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(_kb_types()).flatmap(lambda t: st.tuples(st.just(t), shaped(default_kb().for_type(t).canonical)))
)
def test_c_walk_equals_the_python_walk_under_the_packaged_kb(case: tuple[str, Any]) -> None:
    type_, attrs = case
    rules = default_kb().for_type(type_).canonical
    assert outcome(c_walk, attrs, rules) == outcome(canonical._walk, attrs, rules)


@needs_c
@pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2, MAX_DEPTH + 5])
@pytest.mark.parametrize("container", ["dict", "list", "embedded"])
def test_nesting_limit_is_the_same(depth: int, container: str) -> None:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value} if container != "list" else [value]
    if container == "embedded":  # the deepest part inside a JSON string, parsed where it sits
        value = {"doc": orjson.dumps(value["a"]).decode()}
    want = outcome(canonical._walk, value, None)
    assert outcome(c_walk, value, None) == want
    assert want[0] == ("error" if depth > MAX_DEPTH + 1 else "ok")  # the outermost level is depth 0


@needs_c
def test_unordered_list_is_sorted_into_a_new_list_and_unchanged_parts_are_shared() -> None:
    node = RuleNode(unordered=True)
    lst = ["b", "a"]
    out = c_walk(lst, node)
    assert out == ["a", "b"] and lst == ["b", "a"] and out is not lst
    tags = {"k": "v"}
    attrs = {"tags": tags, "gone": None}
    out = c_walk(attrs, None)
    assert out == {"tags": {"k": "v"}} and out["tags"] is tags  # copy on write: the C walk shares it


@needs_c
def test_values_of_other_types_are_kept_as_they_are() -> None:
    class Sub(dict):  # type: ignore[type-arg]
        pass

    odd = Sub(a=None)
    value = {"t": (1, None), "s": odd, "n": None}
    assert c_walk(value, None) == canonical._walk(value, None) == {"t": (1, None), "s": odd}


@needs_c
def test_errors_from_the_sort_key_propagate() -> None:
    value = [{1j: 1}, {"a": 1}]  # orjson cannot write a complex key
    assert outcome(c_walk, value, RuleNode(unordered=True)) == outcome(canonical._walk, value, RuleNode(unordered=True))
    assert outcome(c_walk, value, RuleNode(unordered=True))[0] == "error"


COLLIDING_VALUES = [0, 1, True, False, 1.0, 0.0, -0.0, "1", "0", "", None, [], {}, [1], {"a": 1}, ["{}"]]


@needs_c
def test_defaults_fold_alike_for_every_pair_of_values_python_calls_equal() -> None:
    """Every default against every value (``1``, ``1.0`` and ``True`` are equal in Python, not in type):
    the C walk folds exactly where the Python walk does."""
    for dflt in COLLIDING_VALUES:
        for value in COLLIDING_VALUES:
            rules = RuleNode(keys={"k": RuleNode(default=(dflt,))})
            attrs = {"k": copy.deepcopy(value), "other": 1}
            assert outcome(c_walk, attrs, rules) == outcome(canonical._walk, attrs, rules), (dflt, value)


# ------------------------------------------------------------------------- secret-keyed redaction
SECRET_KEYS = st.sampled_from(
    ["password", "db_password", "apiKey", "token", "client-secret", "password_policy", "name", "secret_arn", "a"]
)
MARKER = "<redacted:0123456789ab>"
REDACTABLE = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", MARKER, "<redacted:nope"]),
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(SECRET_KEYS | st.integers(0, 2), kids, max_size=4)
        | st.tuples(kids)
    ),  # not descended, by either walk
    max_leaves=15,
)


def python_redaction(value: Any, redactor: Any) -> tuple[bool, Any]:
    from parity import redact

    saved = redact._native_redaction
    redact._native_redaction = lambda: None  # type: ignore[assignment]
    try:
        return redact.redact_secret_keys_in_place(value, redactor), value
    finally:
        redact._native_redaction = saved  # type: ignore[method-assign]


@needs_c
@settings(max_examples=800, deadline=None)
@given(st.dictionaries(SECRET_KEYS, REDACTABLE, max_size=5) | st.lists(REDACTABLE, max_size=4))
def test_c_redaction_equals_the_python_redaction(value: Any) -> None:
    from parity.redact import Redactor, redact_secret_keys_in_place

    assert _cwalk is not None
    red = Redactor(b"k" * 32)

    def native(v: Any, r: Any) -> tuple[bool, Any]:
        return redact_secret_keys_in_place(v, r), v

    def run(how: Any) -> tuple[str, Any]:
        try:
            changed, out = how(copy.deepcopy(value), red)
        except Exception as e:  # a secret value orjson cannot write (a mapping with an int key)
            return ("error", type(e).__name__)
        return ("ok", (changed, exact(out)))

    assert run(native) == run(python_redaction)


@needs_c
def test_c_redaction_is_in_use_and_errors_come_through() -> None:
    from parity import redact
    from parity.redact import Redactor, redact_secret_keys_in_place

    if not os.environ.get("PARITY_PURE_PYTHON"):
        assert redact._native_redaction() is _cwalk.redact_secret_keys  # type: ignore[union-attr]
    deep: Any = 1
    for _ in range(300):  # deeper than orjson writes: the marker cannot be computed, in either walk
        deep = [deep]
    red = Redactor(b"k" * 32)
    with pytest.raises(orjson.JSONEncodeError):
        redact_secret_keys_in_place({"a": [{"password": deep}]}, red)
    with pytest.raises(orjson.JSONEncodeError):
        python_redaction({"a": [{"password": deep}]}, red)


def test_version_verbose_says_which_walk_is_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from parity.cli import app

    monkeypatch.delenv("PARITY_PURE_PYTHON", raising=False)
    out = CliRunner().invoke(app, ["version", "--verbose"]).output
    want = "compiled (C)" if _cwalk is not None else "Python (the compiled walk was not built"
    assert f"canonical walk: {want}" in out
    import parity.normalize

    monkeypatch.setitem(sys.modules, "parity.normalize._cwalk", None)  # as where it was never built
    monkeypatch.delattr(parity.normalize, "_cwalk", raising=False)
    assert canonical.walk_status().startswith("Python (the compiled walk was not built: ")
    monkeypatch.setenv("PARITY_PURE_PYTHON", "1")
    assert CliRunner().invoke(app, ["version", "-v"]).output.splitlines()[-1] == (
        "canonical walk: Python (PARITY_PURE_PYTHON is set)"
    )
    assert CliRunner().invoke(app, ["version"]).output == f"parity {parity_version}\n"  # scripts read this line


# ------------------------------------------------------------------- placeholder passes over bytes
FRAGMENTS = [
    "arn:aws", "arn:aws-us-gov", "arn:", ":", "::", "iam", "s3", "sqs", "{region}", "{region}:", "123456789012",
    "111122223333", "12345678901", "1234567890123", "-", "sg", "sgr", "i", "tgw-attach", "tgw", "vpc", "0123abcd",
    "0123456789abcdef0", "0123456789abcdef01", "0123abcde", "ABCDEF01", "a", "Z", "\\n", "\\t", "\\u0001", "\\",
    '"', ",", "x", "9", "é", "/", "role/x", "{", "}", "[", "]",
]  # fmt: skip
_BEFORE = st.sampled_from(['"', "/", " ", "-", "x", "9", "\\n", "\\t", "\\r", "\\b", "\\f", "\\u", "\\", "", "é"])
_HEX = st.sampled_from(["0123abcd", "0123456789abcdef0", "0123456789abcdef01", "0123abc", "0123abcde", "0123ABCD"])
_AFTER = st.sampled_from(['"', "/", "-", "x", "G", "9", ":", "", ","])
_ID = st.tuples(_BEFORE, st.sampled_from(["sg", "sgr", "i", "tgw-attach", "vpc", "xsg", "ami"]), _HEX, _AFTER).map(
    lambda t: f"{t[0]}{t[1]}-{t[2]}{t[3]}"
)
_ARN = st.tuples(
    st.sampled_from(["arn:aws", "arn:aws-us-gov", "arn:awsx", "arn:aw", "xarn:aws"]),
    st.sampled_from([":iam:", ":s3:", ":sqs:", ":lambda:", "::", ":s3", ":iam-x:"]),
    st.sampled_from(["", "{region}", "{region", "eu-west-1", "{region}:"]),
    st.sampled_from([":", "", "::"]),
    st.sampled_from(["123456789012", "111122223333", "12345678901", "1234567890123", "999999999999", "x"]),
    st.sampled_from([":role/x", ":", "", "/x", ":q"]),
).map("".join)
BYTES = st.lists(st.sampled_from(FRAGMENTS) | _ID | _ARN, max_size=30).map(lambda parts: "".join(parts).encode())


@needs_c
@settings(max_examples=1500, deadline=None)
@given(BYTES)
def test_c_generated_id_pass_equals_its_regex(data: bytes) -> None:
    from parity.normalize import placeholders as P

    assert _cwalk is not None
    assert _cwalk.sub_generated_ids(data, P._ID_PREFIXES) == P._AWS_ID.sub(b"-{id}", data)


@needs_c
@settings(max_examples=1500, deadline=None)
@given(BYTES, st.lists(st.sampled_from(["111122223333", "123456789012", "999999999999"]), max_size=2, unique=True))
def test_c_arn_account_pass_equals_its_regex(data: bytes, foreign: list[str]) -> None:
    from parity.normalize.placeholders import Placeholders

    assert _cwalk is not None
    ph = Placeholders(["prod"], ["444455556666"], foreign)
    assert _cwalk.sub_arn_accounts(data, ph._foreign_b) == ph._arn_b.sub(rb"\1{account}", data)


@needs_c
@settings(max_examples=500, deadline=None)
@given(BYTES)
def test_sub_bytes_is_the_same_with_the_compiled_passes(data: bytes) -> None:
    from parity.normalize import placeholders as P

    ph = P.Placeholders(["prod", "production"], ["123456789012"], ["111122223333"])
    native = ph.sub_bytes(data)
    saved = P._passes
    P._passes = lambda: (P._sub_ids_re, None)  # type: ignore[assignment]
    try:
        assert ph.sub_bytes(data) == native
    finally:
        P._passes = saved
