"""The container image reference grammar: which strings are image references, and why one is not.

Docker, containerd and the kubelet parse references with the grammar of distribution/reference
(``reference.go``, ``regexp.go``, ``normalize.go``). No package parity depends on parses it (the ``docker``
package that may sit in a development environment only splits a name from its tag, without checking either),
so the grammar is transcribed here, anchored, ASCII only:

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path-component ["/" path-component]*      (at most 255 characters)
    domain           := host [":" port]    host := domain-name | "[" IPv6 "]"
    domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
    path-component   := [a-z0-9]+ ([._] | "__" | "-"+ [a-z0-9]+)*
    tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest           := algorithm ":" hex{32,}   algorithm := [A-Za-z][A-Za-z0-9]* ([-_+.][A-Za-z][A-Za-z0-9]*)*

The first component of a name is the registry when it contains ``.`` or ``:`` or is ``localhost`` (Docker's
classic rule; recent versions of the library also take an upper-case first component for a host, which in
practice is a typo, so parity holds it to the path rule: ``UPPER/case`` is not a reference). A name that is
64 hex digits and nothing else is an image id, never a repository.
"""

from __future__ import annotations

import re

NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*", re.ASCII)
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?",
    re.ASCII,
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}", re.ASCII)
_IMAGE_ID = re.compile(r"[a-f0-9]{64}", re.ASCII)

Parts = tuple[str, str | None, str | None]  # name (registry/path as written), tag, digest


def split_reference(ref: str, *, fold_case: bool = False) -> Parts | str:
    """``(name, tag, digest)`` of a valid reference, else the reason it is not one (a phrase).

    ``fold_case`` accepts upper-case letters in the repository path (they are compared lower-cased): for
    matching what is already known; input to judge is held to the grammar (:func:`reference_problem`)."""
    if not ref:
        return "is empty"
    if not ref.isascii() or any(not c.isprintable() or c.isspace() for c in ref):
        return "contains whitespace, a control character or a character that is not ASCII"
    name, at, digest = ref.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        return "has a malformed digest (algorithm:hex, at least 32 hex digits)"
    tag: str | None = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):  # a colon after the last slash starts the tag; one before it is a port
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            return "has a malformed tag (letters, digits, '_', '.', '-'; at most 128)"
    if not name:
        return "has no repository name"
    if ":" in name.rpartition("/")[2] or ":" in name.partition("/")[2]:
        return "has more than one ':' (a tag is written once, after the last '/')"
    if len(name) > NAME_MAX:
        return f"has a repository name longer than {NAME_MAX} characters"
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN.fullmatch(first):
            return "has a malformed registry host or port"
        path = rest
    else:
        path = name
    if not _PATH.fullmatch(path.lower() if fold_case else path):
        if not fold_case and _PATH.fullmatch(path.lower()):
            return "has upper-case letters in its repository path (it must be lower case)"
        return "has a malformed repository path (lower-case letters and digits, separated by '.', '_', '-' or '/')"
    if path is name and _IMAGE_ID.fullmatch(name.lower()):
        return "is a 64-hex-digit image id, not a repository"
    return name, tag, (digest if at else None)


def reference_problem(ref: str) -> str | None:
    """Why ``ref`` is not a valid image reference (a phrase to follow the quoted value), or None."""
    got = split_reference(ref)
    if not isinstance(got, str):
        return None
    if any(c in ref for c in "${}"):
        return "looks like an unexpanded variable or template"
    return got
