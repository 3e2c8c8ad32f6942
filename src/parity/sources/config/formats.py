"""Config file formats: which reader a file name selects, and each reader's parsed shape.

Every reader returns JSON-like data or raises :class:`parity.errors.InputError` with the file and,
where the parser knows it, the line. Shapes (``attributes`` of the file's resource):

- yaml: the document's mapping; several documents -> ``{"documents": [...]}``; a top-level
  list or scalar -> ``{"value": ...}``; an empty file -> ``{}``;
- json: the same wrapping for a list or scalar; an empty file is no JSON document, so an error, and so
  is a key set twice in one object;
- env, properties: flat ``{KEY: "value"}``;
- ini: ``{section: {key: value}}`` (configparser's rules: ``;``/``#`` comments only at a line's start,
  indented lines continue a value, ``%(name)s`` kept as written; ``DEFAULT`` is an ordinary section here,
  not merged into the others; key case kept; a key without ``=`` has the value null);
- tfvars, hcl: nested data, see :mod:`parity.sources.config.hcl`.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Callable

from parity.errors import InputError
from parity.model import Json
from parity.sources.config.dotenv import parse_dotenv
from parity.sources.config.properties import parse_properties
from parity.sources.config.yamlio import json_document, yaml_documents

# Suffixes searched for when a folder is given (a file named explicitly is read if its format is known).
SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".json", ".env", ".tfvars", ".tf", ".ini", ".cfg", ".properties")


def format_of(name: str) -> str | None:
    """The format of a file by its name, or None when it is not a config file parity reads."""
    low = name.lower()
    if low.endswith(".tfvars.json") or low.endswith(".json"):
        return "json"
    if low.endswith((".yaml", ".yml")):
        return "yaml"
    if low == ".env" or low.endswith(".env") or low.startswith(".env."):
        return "env"
    if low.endswith(".tfvars"):
        return "tfvars"
    if low.endswith(".tf"):
        return "hcl"
    if low.endswith((".ini", ".cfg")):
        return "ini"
    if low.endswith(".properties"):
        return "properties"
    return None


def is_config_file(name: str) -> bool:
    """What a folder search keeps: a known suffix, or a ``.env.<something>`` file."""
    return format_of(name) is not None


def _wrap(data: Json) -> dict[str, Json]:
    if isinstance(data, dict):
        return data
    if data is None:
        return {}
    return {"value": data}


def read_yaml(text: str, shown: str) -> dict[str, Json]:
    docs = [d for _, d in yaml_documents(text, shown)]
    if len(docs) > 1:
        return {"documents": docs}
    return _wrap(docs[0] if docs else None)


def read_json(text: str, shown: str) -> dict[str, Json]:
    return _wrap(json_document(text, shown, unique_keys=True))


def read_ini(text: str, shown: str) -> dict[str, Json]:
    parser = configparser.ConfigParser(
        interpolation=None,
        allow_no_value=True,
        strict=True,
        default_section="\x00parity:no-default-section",
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=shown)
    except configparser.MissingSectionHeaderError as e:
        raise InputError(shown, "invalid INI: a setting before the first [section]", e.lineno) from None
    except configparser.ParsingError as e:
        line = e.errors[0][0] if e.errors else None
        raise InputError(shown, "invalid INI: not a `key = value` line or [section]", line) from None
    except configparser.Error as e:
        msg = re.sub(r"^While reading from .*?: ", "", e.message.splitlines()[0])
        raise InputError(shown, f"invalid INI: {msg}", getattr(e, "lineno", None)) from None
    return {s: dict(parser.items(s, raw=True)) for s in parser.sections()}


def read_hcl(text: str, shown: str) -> dict[str, Json]:
    # python-hcl2 (and lark under it) take longer to import than a small diff takes to run: loaded with the
    # first .tf/.tfvars/.hcl file read, not by every command that reads config files or Terraform states.
    from parity.sources.config.hcl import parse_hcl

    return parse_hcl(text, shown)


def read_tfvars(text: str, shown: str) -> dict[str, Json]:
    from parity.sources.config.hcl import parse_hcl

    return parse_hcl(text, shown, tfvars=True)


READERS: dict[str, Callable[[str, str], dict[str, Json]]] = {
    "yaml": read_yaml,
    "json": read_json,
    "env": parse_dotenv,
    "properties": parse_properties,
    "ini": read_ini,
    "tfvars": read_tfvars,
    "hcl": read_hcl,
}


def read_config(fmt: str, text: str, shown: str) -> dict[str, Json]:
    """Parse ``text`` (the content of ``shown``) as ``fmt``."""
    return READERS[fmt](text, shown)
