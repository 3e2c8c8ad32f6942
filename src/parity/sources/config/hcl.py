"""HCL (``.tf``, ``.tfvars``) via python-hcl2, normalised to plain nested data.

python-hcl2 8.x returns blocks as lists of one-key dicts per label, marks block bodies with
``__is_block__``, keeps string literals with their quotes and escapes (``'"web"'``) and wraps every
other expression in ``${...}``. This module turns that into what a reader expects:

- labelled blocks become nested dicts keyed by their labels, merged across blocks:
  ``resource.aws_instance.web.instance_type``; a repeated label path becomes a list of bodies;
- ``locals`` and ``terraform`` blocks are merged into one dict each, as Terraform reads them: a name set
  in two of them is an error (Terraform refuses it), except ``required_version``, which becomes the list
  of every constraint (Terraform applies each), and ``experiments``, the lists joined; a second ``backend``
  (whatever its type), ``cloud`` or ``required_providers`` block is an error too, even within one block;
- other unlabelled blocks (``lifecycle``, ``ebs_block_device``, top-level ``moved``/``import``) are lists of
  bodies, as in Terraform state, so ``ebs_block_device[1].device_name`` reads the same in both;
- ``<<-`` heredocs lose the indentation common to their non-blank lines, counting a tab as one
  character like a space, as Terraform does (python-hcl2 counts spaces only);
- string literals are unquoted and unescaped; other expressions lose the ``${...}`` wrapper
  (``var.size``, ``lower("X")``); interpolations inside strings stay (``"web-${var.env}"``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import hcl2
from hcl2.rules.base import AttributeRule, BlockRule, BodyRule
from hcl2.rules.strings import HeredocTrimTemplateRule
from hcl2.walk import find_all
from lark.exceptions import UnexpectedInput

from parity.errors import InputError
from parity.model import Json, json_int

_BLOCK = "__is_block__"
_OPTIONS = hcl2.SerializationOptions(
    with_comments=False,
    with_meta=False,
    explicit_blocks=True,
    preserve_heredocs=False,
    strip_string_quotes=False,
    preserve_scientific_notation=False,
)
# Top-level blocks that are one namespace however many blocks declare them (Terraform's configs parser).
_NAMESPACES = frozenset({"locals", "terraform"})
# Names a namespace may set in several blocks, every value applying (experiments: the union of the lists).
_REPEATABLE: dict[str, frozenset[str]] = {"terraform": frozenset({"required_version", "experiments"})}
# Blocks a module has at most one of, whatever their labels and however many ``terraform`` blocks hold them
# (Terraform: "Duplicate backend configuration", "Duplicate required providers configuration", also within one
# block); ``backend`` and ``cloud`` exclude each other ("Both a backend and cloud configuration are present").
_ONE_OF: dict[str, str] = {"backend": "backend", "cloud": "backend", "required_providers": "required_providers"}
# Top-level declarations a module may hold once per name, by how many labels name them (Terraform: "Duplicate
# resource ... configuration", "Duplicate module call", "Duplicate variable declaration", "Duplicate output
# definition"); python-hcl2 reads a second one as a list of both.
_DECLARATIONS: dict[str, int] = {"resource": 2, "data": 2, "module": 1, "variable": 1, "output": 1}
_ESC = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(s: str) -> str:
    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if len(e) > 1:
            code = int(e[1:], 16)
            if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code)
            return "\\" + e  # not a Unicode character (a lone surrogate, past U+10FFFF): kept as written
        return _SIMPLE.get(e, "\\" + e)

    return _ESC.sub(one, s)


def scalar(s: str) -> str:
    """A python-hcl2 string as the value it stands for (see the module docstring)."""
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return _unescape(s[1:-1])
    if s.startswith("${") and s.endswith("}"):
        return s[2:-1]
    return s


def _value(v: Any) -> Json:
    if isinstance(v, str):
        return scalar(v)
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {scalar(k): _value(x) for k, x in v.items() if k != _BLOCK}
    if type(v) is int:
        return json_int(v)
    if type(v) is float and not math.isfinite(v):  # 1e400 reads as inf; JSON has no such number
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v  # float, bool, None


def _is_block_item(x: dict[str, Any]) -> bool:
    """True for one element of a block list: a body (marked) or a label wrapper around one."""
    while True:
        if x.get(_BLOCK) is True:
            return True
        if len(x) != 1:
            return False
        inner = next(iter(x.values()))
        if not isinstance(inner, dict):
            return False
        x = inner


def _labels(x: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """A block list element as (labels, body)."""
    labels: list[str] = []
    while x.get(_BLOCK) is not True:
        (label, inner), *_ = x.items()
        labels.append(scalar(label))
        x = inner
    return labels, x


def _body(body: dict[str, Any], top: bool = False) -> dict[str, Json]:
    out: dict[str, Json] = {}
    for k, v in body.items():
        if k == _BLOCK:
            continue
        key = scalar(k)
        if isinstance(v, list) and v and all(isinstance(x, dict) and _is_block_item(x) for x in v):
            _merge_blocks(out, key, v, top)
        else:
            out[key] = _value(v)
    return out


def _merge_blocks(out: dict[str, Json], key: str, items: list[dict[str, Any]], top: bool) -> None:
    for item in items:
        labels, raw = _labels(item)
        body = _body(raw)
        if not labels:
            if top and key in _NAMESPACES:
                merged = out.setdefault(key, {})
                if isinstance(merged, dict):
                    _merge_namespace(merged, body, _REPEATABLE.get(key, frozenset()))
                continue
            existing = out.setdefault(key, [])
            if isinstance(existing, list):
                existing.append(body)
            continue
        node = out.setdefault(key, {})
        for label in labels[:-1]:
            if not isinstance(node, dict):
                break
            node = node.setdefault(label, {})
        if not isinstance(node, dict):
            continue
        last = labels[-1]
        if last not in node:
            node[last] = body
        elif isinstance(node[last], list):
            node[last].append(body)
        else:
            node[last] = [node[last], body]  # e.g. two `provisioner "local-exec"` blocks


def _merge_namespace(into: dict[str, Json], body: dict[str, Json], repeatable: frozenset[str]) -> None:
    """One more block of a namespace; _refuse_redefined has refused a name set twice, so a name already
    here is repeatable or a labelled block whose labels differ (``provider_meta "a"`` and ``provider_meta "b"``)."""
    for k, v in body.items():
        had = into.get(k)
        if k not in into:
            into[k] = v
        elif k in repeatable:  # a constraint string, or a list of experiments
            into[k] = [*(had if isinstance(had, list) else [had]), *(v if isinstance(v, list) else [v])]
        elif isinstance(had, dict) and isinstance(v, dict):
            _merge_namespace(had, v, frozenset())
        else:
            into[k] = v


def _line(rule: Any) -> int | None:
    line = getattr(getattr(rule, "_meta", None), "line", None)
    return line if isinstance(line, int) and line > 0 else None


def _name(rule: AttributeRule | BlockRule) -> str:
    """An attribute's name, or a block's type and labels as written (``backend "s3"``)."""
    if isinstance(rule, AttributeRule):
        return str(rule.identifier.serialize(_OPTIONS))
    return " ".join(str(label.serialize(_OPTIONS)) for label in rule.labels)


def _kind(block: BlockRule) -> str:
    return str(block.labels[0].serialize(_OPTIONS))


def _refuse_redefined(tree: Any, shown: str) -> None:
    """Terraform refuses an attribute set twice in one body ("Attribute redefined") and a name set in two
    ``locals`` (or ``terraform``) blocks ("Duplicate local value definition"), and a second backend, cloud or
    required_providers block (see _ONE_OF); python-hcl2 keeps the last, or both, so a file Terraform would not
    run would be read as if its second value were the only one."""
    bodies = [tree.body]
    while bodies:
        body = bodies.pop()
        seen: dict[str, int | None] = {}
        blocks: dict[str, int | None] = {}
        for child in body.children:
            if isinstance(child, AttributeRule):
                name = _name(child)
                if name in seen:
                    first = seen[name]
                    where = f" (first set on line {first})" if first else ""
                    raise InputError(shown, f"attribute {name!r} is set twice in one block{where}", _line(child))
                if name in blocks:  # python-hcl2 raises this without a line
                    where = f" (block on line {blocks[name]})" if blocks[name] else ""
                    raise InputError(shown, f"{name!r} is both an attribute and a block{where}", _line(child))
                seen[name] = _line(child)
            elif isinstance(child, BlockRule):
                kind = _kind(child)
                if kind in seen:
                    where = f" (attribute on line {seen[kind]})" if seen[kind] else ""
                    raise InputError(shown, f"{kind!r} is both an attribute and a block{where}", _line(child))
                blocks.setdefault(kind, _line(child))
                bodies += [c for c in child.children if isinstance(c, BodyRule)]
    declared: dict[tuple[str, ...], int | None] = {}
    for block in tree.body.children:
        if isinstance(block, BlockRule) and len(block.labels) == 1 + _DECLARATIONS.get(_kind(block), -1):
            decl = tuple(str(label.serialize(_OPTIONS)) for label in block.labels)
            if decl in declared:
                first = declared[decl]
                where = f" (first on line {first})" if first else ""
                said = " ".join(decl)
                raise InputError(shown, f"{said} is declared twice{where}; Terraform refuses a duplicate", _line(block))
            declared[decl] = _line(block)
    namespaces: dict[str, dict[str, int | None]] = {}
    single: dict[str, tuple[str, int | None]] = {}  # _ONE_OF group -> the block of it seen first, and its line
    for block in tree.body.children:
        if not isinstance(block, BlockRule) or len(block.labels) != 1:
            continue
        kind = _kind(block)
        if kind not in _NAMESPACES:
            continue
        known = namespaces.setdefault(kind, {})
        mine: dict[str, int | None] = {}
        for child in block.body.children:
            if not isinstance(child, (AttributeRule, BlockRule)):
                continue
            name = _name(child)
            if name in _REPEATABLE.get(kind, ()):
                continue
            if name in known:
                first = known[name]
                what = "attribute" if isinstance(child, AttributeRule) else "block"
                where = f" (first on line {first})" if first else ""
                raise InputError(shown, f"{what} {name!r} is set in two {kind!r} blocks{where}", _line(child))
            sort = _kind(child) if kind == "terraform" and isinstance(child, BlockRule) else ""
            group = _ONE_OF.get(sort)
            if group is not None:
                if group in single:
                    other, first = single[group]
                    if other == sort:
                        said = f"is a second {other!r} block{f' (first on line {first})' if first else ''}"
                        said += "; a module may have one"
                    else:
                        said = f"is beside a {other!r} block{f' (line {first})' if first else ''}"
                        said += "; a module may have one or the other"
                    raise InputError(shown, f"block {name!r} {said}", _line(child))
                single[group] = (sort, _line(child))
            mine.setdefault(name, _line(child))
        known.update(mine)


class _FlushHeredoc(HeredocTrimTemplateRule):
    """``<<-`` as Terraform reads it (hclsyntax flushHeredocTemplateParts): the smallest count of leading
    whitespace characters (tab and space alike) over the non-blank lines is cut from each of them; lines of
    whitespace only are kept as written, and so are lines that begin inside a ``${...}`` or ``%{...}`` sequence
    (the expression of ``${jsonencode({`` spread over lines is no literal text: Terraform neither measures nor
    cuts it, and a closing ``})}`` at column 0 would otherwise cancel the dedent of the whole heredoc).
    python-hcl2 counts leading spaces only, so a tab-indented heredoc kept its indentation and a
    tab-then-spaces one too. The newline before the closing marker is dropped, as python-hcl2 does for ``<<``
    heredocs, so both kinds read alike."""

    def serialize(self, options: Any = None, context: Any = None) -> Any:
        m = _HEREDOC.match(str(self.children[0].value))
        if m is None:  # not the token shape this was written against: python-hcl2's own reading
            return super().serialize(options, context)
        body = m.group(2)
        lines = body.removesuffix("\n").split("\n") if body else []
        # a width of -1: a line left as written (whitespace only, or begun inside a template sequence)
        inner = _inside_sequences(body) if "{" in body else set()
        widths = [-1 if n in inner or (w := _indent(line)) == len(line) else w for n, line in enumerate(lines)]
        cut = min((w for w in widths if w >= 0), default=0)
        kept = [line if w < 0 else line[cut:] for w, line in zip(widths, lines, strict=True)]
        text = "\n".join(kept)
        # python-hcl2's quoted form, which scalar() reads back: a heredoc has no escapes of its own.
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# The token python-hcl2 keeps: opener, body lines each ending in a newline, closing marker (maybe indented, by
# any whitespace: python-hcl2's grammar and Terraform, which trims the marker line with Go's unicode.IsSpace).
_HEREDOC = re.compile(r"<<-([A-Za-z][A-Za-z0-9._-]*)\n(.*?)[^\S\n]*\1\n?\Z", re.DOTALL)
# What opens or closes a template sequence or a string in one: escapes first (``$${`` is a literal ``${``).
_SEQ = re.compile(r'\$\$\{|%%\{|[$%]\{|[\\"{}\n]')
# Go's unicode.IsSpace, which Terraform uses to measure a line's indentation.
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def _indent(line: str) -> int:
    n = 0
    while n < len(line) and line[n] in _GO_SPACE:
        n += 1
    return n


def _inside_sequences(body: str) -> set[int]:
    """The numbers of the lines of a heredoc body that begin inside a ``${...}``/``%{...}`` sequence: braces and
    quoted strings (with their escapes and own sequences) counted, as hclsyntax's scanner does."""
    out: set[int] = set()
    stack: list[str] = []  # "e": an expression (or a brace in one), "s": a quoted string in an expression
    line = pos = 0
    while (m := _SEQ.search(body, pos)) is not None:
        tok, pos = m.group(), m.end()
        mode = stack[-1] if stack else "t"  # "t": the heredoc's own text
        if tok == "\n":
            line += 1
            if stack:
                out.add(line)
        elif mode != "e":  # text, or a string: only a sequence opens (and, in a string, a quote closes)
            if tok in ("${", "%{"):
                stack.append("e")
            elif mode == "s" and tok == '"':
                stack.pop()
            elif mode == "s" and tok == "\\" and body[pos : pos + 1] not in ("", "\n"):
                pos += 1  # an escaped character
        elif tok == '"':
            stack.append("s")
        elif tok == "}":
            stack.pop()
        elif tok != "\\":  # "{", or "${" and the like, each opening a brace
            stack.append("e")
    return out


def _flush_heredocs(tree: Any) -> None:
    for node in list(find_all(tree, HeredocTrimTemplateRule)):
        parent = node.parent
        if parent is not None:
            parent.children[node.index] = _FlushHeredoc(node.children, node._meta)


def _refuse_blocks(tree: Any, shown: str) -> None:
    """A ``.tfvars`` file only assigns variables: Terraform refuses any block in it ("Blocks are not allowed
    here"), which python-hcl2 would read as data."""
    for block in tree.body.children:
        if isinstance(block, BlockRule):
            raise InputError(
                shown, f"a {_kind(block)!r} block: a .tfvars file only sets variables (name = value)", _line(block)
            )


def parse_hcl(text: str, shown: str, tfvars: bool = False) -> dict[str, Json]:
    """A ``.tf`` (or, with ``tfvars``, a ``.tfvars``) file as nested data, or InputError with line and column."""
    if "\r\n" in text:  # a file saved with CRLF reads as the same file with LF (a heredoc spans lines)
        text = text.replace("\r\n", "\n")
    try:
        tree = hcl2.parses(text)
        _refuse_redefined(tree, shown)
        if tfvars:
            _refuse_blocks(tree, shown)
        if "<<-" in text:  # (walking the whole tree costs a seventh of the parse)
            _flush_heredocs(tree)
        raw = hcl2.serialize(tree, serialization_options=_OPTIONS)
    except UnexpectedInput as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = re.sub(r" at line \d+, column \d+\.?$", "", msg)
        raise InputError(shown, f"invalid HCL: {msg}", e.line if e.line > 0 else None, e.column or None) from None
    except RecursionError:
        raise InputError(shown, "invalid HCL: nested too deeply") from None
    except InputError:
        raise
    except Exception as e:  # python-hcl2 raises plain errors for some invalid input (no position)
        raise InputError(shown, f"invalid HCL: {type(e).__name__}: {e}") from None
    return _body(raw, top=True)
