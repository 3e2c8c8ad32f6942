"""The diff engine: path rules, keyed lists, sets, embedded files, and properties against a reference."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parity.compare import diff
from parity.model import Change
from parity.normalize import canonical_attributes, canonical_value, default_kb
from parity.normalize.noise import RuleNode


def paths(changes: list[Change]) -> list[str]:
    return [c.path for c in changes]


def test_equal_values_have_no_changes() -> None:
    v = {"a": [1, {"b": "x"}], "c": {"d": None}}
    assert diff(v, v) == []


def test_nested_paths_and_absent_sides() -> None:
    got = diff({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "d": 3}})
    assert got == [Change("a.c", 2, None), Change("a.d", None, 3)]


def test_named_list_elements_are_keyed_by_name() -> None:
    left = {"spec": {"containers": [{"name": "web", "image": "a:1"}, {"name": "side", "image": "s:1"}]}}
    right = {"spec": {"containers": [{"name": "side", "image": "s:1"}, {"name": "web", "image": "a:2"}]}}
    assert diff(left, right) == [Change("spec.containers[web].image", "a:1", "a:2")]


def test_keyed_list_reordered_only_is_one_change() -> None:
    left = [{"name": "a"}, {"name": "b"}]
    assert diff(left, left[::-1]) == [Change("", ["a", "b"], ["b", "a"])]


def test_unnamed_lists_by_index() -> None:
    assert diff({"l": [1, 2, 3]}, {"l": [1, 5]}) == [Change("l[1]", 2, 5), Change("l[2]", 3, None)]


def test_sets_from_the_kb_and_iam_actions() -> None:
    node = RuleNode(keys={"cidr": RuleNode(unordered=True)})
    got = diff({"cidr": ["10.0.0.0/8", "1.1.1.1/32"]}, {"cidr": ["1.1.1.1/32", "0.0.0.0/0"]}, node)
    assert got == [Change("cidr[10.0.0.0/8]", "10.0.0.0/8", None), Change("cidr[0.0.0.0/0]", None, "0.0.0.0/0")]
    pol = {"Statement": [{"Sid": "A", "Action": ["s3:GetObject"]}]}
    pol2 = {"Statement": [{"Sid": "A", "Action": ["s3:GetObject", "s3:PutObject"]}]}
    assert paths(diff(pol, pol2)) == ["Statement[A].Action[s3:PutObject]"]


def test_kb_sets_reach_the_diff_through_the_type_rules() -> None:
    rules = default_kb().for_type("aws_security_group").canonical
    a = canonical_attributes("aws_security_group", {"ingress": [{"from_port": 1, "cidr_blocks": ["a", "b"]}]})
    b = canonical_attributes("aws_security_group", {"ingress": [{"from_port": 1, "cidr_blocks": ["b", "a", "c"]}]})
    # the rule element itself differs, so the set reports it removed and added (no positional noise)
    got = diff(a, b, rules)
    assert len(got) == 2 and {c.left is None for c in got} == {True, False}


def test_embedded_file_key_lines_are_named() -> None:
    left = {"data": {"app.env": "DB_HOST=db.internal\nLOG_LEVEL=info\n# comment\nplain line\n"}}
    right = {"data": {"app.env": "DB_HOST=db.internal\nLOG_LEVEL=debug\n# comment\nother line\n"}}
    assert diff(left, right) == [
        Change('data["app.env"]#LOG_LEVEL', "info", "debug"),
        Change('data["app.env"]:line 4', "plain line", "other line"),
    ]


def test_embedded_yaml_and_ini_styles() -> None:
    got = diff("server:\n  port: 8080\nname = a\n", "server:\n  port: 9090\nname = a\n")
    assert got == [Change("#port", "8080", "9090")]


def test_added_line_is_counted_on_the_right() -> None:
    assert diff("a\nb", "a\nb\nc") == [Change(":line 3", None, "c")]


def test_redacted_markers_show_as_markers() -> None:
    got = diff({"env": {"TOKEN": "<redacted:aaa>"}}, {"env": {"TOKEN": "<redacted:bbb>"}})
    assert got == [Change("env.TOKEN", "<redacted:aaa>", "<redacted:bbb>")]


def test_type_change_is_one_change_at_the_node() -> None:
    assert diff({"a": {"b": 1}}, {"a": [1]}) == [Change("a", {"b": 1}, [1])]
    assert diff({"a": 1}, {"a": True}) == [Change("a", 1, True)]


def test_values_python_calls_equal_but_json_does_not_are_changes_at_any_depth() -> None:
    # Python's == takes True for 1 and 1 for 1.0 inside containers too; equal subtrees are skipped whole,
    # so the skip must not hide these.
    assert diff({"a": {"x": 1}}, {"a": {"x": True}}) == [Change("a.x", 1, True)]
    assert diff({"a": [1.0, {"b": False}]}, {"a": [1, {"b": 0}]}) == [
        Change("a[0]", 1.0, 1),
        Change("a[1].b", False, 0),
    ]
    assert diff({"a": {"x": 1, "y": 2}}, {"a": {"y": 2, "x": 1}}) == []  # key order is not a change


def test_values_orjson_cannot_write_are_walked() -> None:
    big = 2**70  # past 64 bits: no serialisation confirms the equal subtree, the walk decides
    assert diff({"a": {"x": big, "y": 1}}, {"a": {"x": big, "y": 1}, "b": 1}) == [Change("b", None, 1)]
    assert diff({"a": {"x": big}}, {"a": {"x": big + 1}}) == [Change("a.x", big, big + 1)]


def test_odd_keys_are_quoted() -> None:
    assert paths(diff({"a.b": 1}, {"a.b": 2})) == ['["a.b"]']


# ------------------------------------------------------------------------------------ properties
# Keys avoid the identity fields and the IAM set keys, strings have no newline: on such data the
# engine's paths are plain dotted/indexed paths, which the reference below computes independently.
# Values are canonical (the diff's input): empty and null mapping entries are folded into absent.
LEAF = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y", "z", ""]))
KEY = st.sampled_from(["a", "b", "c", "d"])
VALUE = st.recursive(
    LEAF, lambda k: st.lists(k, max_size=3) | st.dictionaries(KEY, k, min_size=1, max_size=3), max_leaves=12
).map(canonical_value)


def flatten(v: Any, path: str = "") -> dict[str, Any]:
    """Reference: path -> (type, leaf). Non-empty containers expand; everything else is a leaf."""
    if isinstance(v, dict) and v:
        out: dict[str, Any] = {}
        for k, x in v.items():
            out.update(flatten(x, f"{path}.{k}" if path else k))
        return out
    if isinstance(v, list) and v:
        out = {}
        for i, x in enumerate(v):
            out.update(flatten(x, f"{path}[{i}]"))
        return out
    return {path: (type(v).__name__, v)}


def differing_leaves(a: Any, b: Any) -> set[str]:
    fa, fb = flatten(a), flatten(b)
    return {p for p in fa.keys() | fb.keys() if fa.get(p) != fb.get(p)}


def is_prefix(p: str, q: str) -> bool:
    return q == p or p == "" or q.startswith(p + ".") or q.startswith(p + "[")


@settings(max_examples=300, deadline=None)
@given(VALUE)
def test_diff_of_a_value_with_itself_is_empty(a: Any) -> None:
    assert diff(a, a) == []


@settings(max_examples=300, deadline=None)
@given(VALUE, VALUE)
def test_diff_empty_iff_equal(a: Any, b: Any) -> None:
    same = flatten(a) == flatten(b)
    assert (diff(a, b) == []) == same


@settings(max_examples=300, deadline=None)
@given(VALUE, VALUE)
def test_reported_paths_cover_exactly_the_differing_leaves(a: Any, b: Any) -> None:
    """Reported paths are exactly where the reference finds differences: every differing leaf is at or
    under a reported path (or, for an empty container facing a full one, above it), every reported path
    relates to a differing leaf, and no difference is reported twice (no path nests in another)."""
    reported = paths(diff(a, b))
    leaves = differing_leaves(a, b)

    def related(p: str, q: str) -> bool:
        return is_prefix(p, q) or is_prefix(q, p)

    for leaf in leaves:
        assert any(related(p, leaf) for p in reported), (leaf, reported)
    for p in reported:
        assert any(related(p, leaf) for leaf in leaves), (p, leaves)
    for i, p in enumerate(reported):
        assert not any(is_prefix(p, q) for j, q in enumerate(reported) if j != i), reported


@settings(max_examples=200, deadline=None)
@given(VALUE, st.data())
def test_same_shape_changes_report_exactly_the_changed_leaves(a: Any, data: st.DataObject) -> None:
    """Mutating some scalar leaves of a value: the diff names exactly those leaves, with both values."""
    leaves = flatten(a)
    assume(leaves)
    chosen = data.draw(st.sets(st.sampled_from(sorted(leaves)), min_size=1))
    b = _replace_leaves(a, "", chosen)
    got = diff(a, b)
    assert {c.path for c in got} == chosen
    for c in got:
        assert c.left == leaves[c.path][1] and c.right == "CHANGED"


def _replace_leaves(v: Any, path: str, chosen: set[str]) -> Any:
    if isinstance(v, dict) and v:
        return {k: _replace_leaves(x, f"{path}.{k}" if path else k, chosen) for k, x in v.items()}
    if isinstance(v, list) and v:
        return [_replace_leaves(x, f"{path}[{i}]", chosen) for i, x in enumerate(v)]
    return "CHANGED" if path in chosen else v


def test_against_deepdiff_on_a_realistic_pair() -> None:
    from deepdiff import DeepDiff

    a = {"spec": {"replicas": 2, "ports": [80, 443], "labels": {"app": "web", "tier": "fe"}}}
    b = {"spec": {"replicas": 3, "ports": [80, 8443], "labels": {"app": "web"}}}
    dd = DeepDiff(a, b)
    expected = {p.replace("root['spec']", "spec").replace("['", ".").replace("']", "") for g in dd.values() for p in g}
    assert set(paths(diff(a, b))) == expected
