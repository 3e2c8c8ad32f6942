"""Which environment a job deploys to, and the normal form that makes two environments' jobs compare equal.

Classification (:func:`deploy_environment`), first rule that names exactly one environment wins:

1. the job's ``environment:`` name (GitHub ``environment: production`` or ``{name: ...}``; GitLab the
   same, except ``action: stop|prepare|verify|access``, which is not a deploy);
2. the job id, then the job name;
3. the values of the job's ``with:``, ``env:`` / ``variables:``.

A token counts as a whole part (``deploy-prod``, ``PROD_URL``; not ``product``); a token shared by two
environments counts for neither. Where one string names several (``promote-staging-to-prod``), the
last one named is the target.

Normal form (:class:`Normaliser`): in every string, this environment's tokens become ``{env}``, a
12-digit account id standing alone becomes ``{account}``; a literal value under a secret-looking key
(``AWS_SECRET_ACCESS_KEY: wJal...``) becomes a ``<redacted:...>`` marker, while references to secrets
(``${{ secrets.X }}``, ``$X``) stay as written: they are names, not values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from parity.model import Json
from parity.redact import Redactor, looks_secret
from parity.sources.pipeline.raw import RawJob, RawStep

ENV = "{env}"
ACCOUNT = "{account}"
_ACCOUNT = re.compile(r"(?<![A-Za-z0-9])[0-9]{12}(?![A-Za-z0-9])")
# a value that only refers to a secret: ${{ secrets.X }}, ${{ vars.X }}, $X, ${X}
_REFERENCE = re.compile(r"^\s*(\$\{\{[^}]*\}\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\})\s*$")
NAME_MAX = 80
VARIABLE_KEYS = frozenset({"env", "with", "variables", "secrets"})
_NOT_DEPLOY_ACTIONS = {"stop", "prepare", "verify", "access"}


def token_regex(tokens: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({t.lower() for t in tokens if t}, key=lambda t: (-len(t), t))
    if not words:
        return None
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(w) for w in words) + r")(?![A-Za-z0-9])", re.I)


def env_sub(text: str, tokens: Iterable[str]) -> str:
    """``text`` with the whole-part ``tokens`` replaced by ``{env}`` (for keys)."""
    rx = token_regex(tokens)
    return rx.sub(ENV, text) if rx is not None else text


class Classifier:
    """Finds the environment a string or a job names, from every environment's tokens."""

    def __init__(self, tokens: Mapping[str, Iterable[str]]) -> None:
        owner: dict[str, set[str]] = {}
        for env, toks in tokens.items():
            for t in (env, *toks):
                owner.setdefault(t.lower(), set()).add(env)
        self.owner = {t: next(iter(envs)) for t, envs in owner.items() if len(envs) == 1}
        self.regex = token_regex(self.owner)

    def named(self, text: str) -> list[str]:
        """The environments ``text`` names, in the order named."""
        if self.regex is None:
            return []
        return [self.owner[m.group().lower()] for m in self.regex.finditer(text)]

    def last(self, text: str) -> str | None:
        found = self.named(text)
        return found[-1] if found else None

    def deploy_environment(self, job: RawJob) -> str | None:
        if job.environment_action in _NOT_DEPLOY_ACTIONS:
            return None
        for text in (job.environment or "", job.id, job.name):
            got = self.last(text)
            if got is not None:
                return got
        found: set[str] = set()
        for key in ("with", "env", "variables"):
            for s in _strings(job.settings.get(key)):
                found.update(self.named(s))
        return found.pop() if len(found) == 1 else None


def _strings(value: Json) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@dataclass
class Normaliser:
    """The normal form for one environment (see the module docstring)."""

    tokens: Iterable[str]
    redactor: Redactor
    # raw job ids of other environments' deploy jobs -> how they are written in this environment's values
    foreign_jobs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._env = token_regex(self.tokens)
        ids = sorted(self.foreign_jobs, key=len, reverse=True)
        self._jobs = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ids)) + r")(?![\w-])") if ids else None

    def text(self, s: str) -> str:
        if self._jobs is not None:
            s = self._jobs.sub(lambda m: self.foreign_jobs[m.group()], s)
        if self._env is not None:
            s = self._env.sub(ENV, s)
        return _ACCOUNT.sub(ACCOUNT, s)

    def value(self, v: Json, key: str = "", variables: bool = False) -> Json:
        """``v`` in normal form; ``variables``: ``v`` holds variables/inputs, whose secret-looking
        literal values are redacted (``env``, ``with``, ``variables``, ``secrets``)."""
        if isinstance(v, str):
            if variables and key and looks_secret(key) and not _REFERENCE.match(v) and v:
                return self.redactor.redact(v)
            return self.text(v)
        if isinstance(v, dict):
            return {
                self.text(str(k)): self.value(x, str(k), variables or str(k) in VARIABLE_KEYS) for k, x in v.items()
            }
        if isinstance(v, list):
            return [self.value(x, key, variables) for x in v]
        return v

    def steps(self, steps: list[RawStep]) -> tuple[list[dict[str, Json]], list[str]]:
        """The normalised steps, each with a unique stable ``name``, and those names in order."""
        out: list[dict[str, Json]] = []
        seen: dict[str, int] = {}
        for s in steps:
            data = {str(k): self.value(v, str(k), str(k) in VARIABLE_KEYS) for k, v in s.data.items()}
            base = self.text(s.prefix) + step_label(data)
            seen[base] = seen.get(base, 0) + 1
            name = base if seen[base] == 1 else f"{base} #{seen[base]}"
            out.append({**data, "name": name})
        return out, [str(s["name"]) for s in out]


def step_label(data: Mapping[str, Json]) -> str:
    """A step's stable name: its name, else its id, else ``uses <action>`` or its command's first line."""
    for key in ("name", "id"):
        v = data.get(key)
        if isinstance(v, str) and v.strip():
            return _short(v)
    uses = data.get("uses")
    if isinstance(uses, str):
        return "uses " + uses.split("@", 1)[0]
    run = data.get("run")
    if isinstance(run, str):
        first = next((ln.strip() for ln in run.splitlines() if ln.strip()), "")
        return _short(first) if data.get("section") else "run: " + _short(first)
    trigger = data.get("trigger")
    if trigger is not None:
        return "trigger " + _short(str(trigger.get("project", trigger) if isinstance(trigger, dict) else trigger))
    return "step"


def _short(s: str) -> str:
    s = " ".join(s.split())
    return s if len(s) <= NAME_MAX else s[: NAME_MAX - 1] + "…"
