"""The ``parity.yaml`` schema (pydantic), its loading with file:line errors, and its JSON Schema.

Every error names the file, the line and what is wrong (:class:`parity.errors.ConfigError`).
``${VAR}`` and ``${VAR:-default}`` in string values are replaced from the process environment.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import itertools
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from parity.alerts.settings import ALERT_KINDS, AlertConfig
from parity.errors import ConfigError, UsageError
from parity.globs import rule_matches
from parity.model import FINDING_KINDS, Role
from parity.watch.settings import WatchConfig

DEFAULT_CONFIG = "parity.yaml"
DEFAULT_STORE = "sqlite:///.parity/parity.db"

# Environment-name tokens that mean the same stage. An environment whose name is in a group gets the
# whole group as its tokens unless naming.tokens says otherwise. Words that are also ordinary words in
# names and settings ("stage", "live", "load", "develop") are left out: add them in naming.tokens where
# your names use them.
DEFAULT_TOKEN_GROUPS: tuple[tuple[str, ...], ...] = (
    ("dev", "development"),
    ("test", "tst", "qa"),
    ("stg", "staging", "preprod", "pre-prod"),
    ("prd", "prod", "production"),
    ("sandbox", "sbx"),
    ("uat",),
    ("perf", "performance"),
)


# Environment and source names are stored in varchar(255) columns, and PostgreSQL refuses NUL in text: a
# name SQLite would take must not fail only once the team moves the store to PostgreSQL.
MAX_NAME_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class _At(ValueError):
    """A model-level error that knows its place: ``loc`` below the validated model, ``shown`` (when
    given) what the message calls that place, for a name that would not read as a path."""

    def __init__(self, loc: tuple[Any, ...], message: str, shown: str | None = None) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.shown = shown


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SourceBase(_Strict):
    name: str | None = Field(
        default=None,
        max_length=MAX_NAME_LENGTH,
        description="Name of the source inside its environment (defaults to kind + position).",
    )
    role: Role | None = Field(
        default=None,
        description="'declared' (what code says) or 'live' (what is deployed). Defaults per kind; set 'live' "
        "for an export of a live system, e.g. `kubectl get -o yaml` output.",
    )

    @field_validator("name")
    @classmethod
    def _name_storable(cls, v: str | None) -> str | None:
        if v is not None and _CONTROL.search(v):
            raise ValueError(f"{v!r} holds a control character")
        return v

    @field_validator("path", check_fields=False)
    @classmethod
    def _home_known(cls, v: str | list[str]) -> str | list[str]:
        if not v or any(not p.strip() for p in ([v] if isinstance(v, str) else v)):
            # an empty list read nothing and reported no drift: a typo must not look like a clean environment
            raise ValueError("names no file: give a file, folder or glob (or a list of them)")
        for p in [v] if isinstance(v, str) else v:
            # os.path.expanduser leaves an unknown ~user as it is, where pathlib raises RuntimeError later
            if p.startswith("~") and os.path.expanduser(p) == p:
                user = p[1:].split("/", 1)[0]
                raise ValueError(f"{p!r}: no home folder for {'user ' + repr(user) if user else 'the current user'}")
        return v


class TerraformStateSource(_SourceBase):
    """Terraform state v4 files (local paths or globs)."""

    kind: Literal["terraform-state"]
    path: str | list[str] = Field(description="A state file, a folder searched for *.tfstate, or a glob.")


class TerraformPlanSource(_SourceBase):
    """`terraform show -json` output of a plan (including a refresh-only plan's resource_drift)."""

    kind: Literal["terraform-plan"]
    path: str | list[str] = Field(description="Plan JSON file(s) or glob(s).")


class KubernetesManifestsSource(_SourceBase):
    """Multi-document YAML manifests: raw, rendered kustomize or helm output."""

    kind: Literal["kubernetes-manifests"]
    path: str | list[str] = Field(description="A manifest file, a folder (searched recursively) or a glob.")
    kustomize: bool | Literal["auto"] = Field(
        default="auto",
        description="Render a folder holding a kustomization with `kubectl kustomize` ('auto': when kubectl "
        "is installed).",
    )
    namespace: str | None = Field(default=None, description="Namespace for namespaced objects that name none.")
    kinds: list[str] = Field(
        default_factory=list,
        description="For an export of a live cluster (role: live): the kinds it was taken for, as "
        "apiVersion/kind (batch/v1/CronJob, v1/ConfigMap). A declared object of such a kind that the export "
        "lacks is reported missing; by default only kinds present in the export count as checked.",
    )

    @field_validator("kinds")
    @classmethod
    def _kinds_are_types(cls, v: list[str]) -> list[str]:
        for k in v:
            if "/" not in k:
                raise ValueError(f"{k!r} is not apiVersion/kind, e.g. apps/v1/Deployment or v1/Secret")
        return v


class ConfigFilesSource(_SourceBase):
    """Configuration files (YAML, JSON, .env, .tfvars, .tf/HCL, .ini/.properties) flattened to settings."""

    kind: Literal["config"]
    path: str | list[str] = Field(description="A file, a folder (searched recursively) or a glob.")
    exclude: list[str] = Field(default_factory=list, description="Globs of relative paths to skip.")


class PipelineSource(_SourceBase):
    """CI/CD definitions in a repository folder: GitHub Actions workflows and GitLab CI (see docs/pipelines.md).

    The same folder is usually configured in every environment; each keeps the jobs that deploy to it.
    """

    kind: Literal["pipeline"]
    path: str = Field(description="The repository folder (holding .github/workflows/ and/or .gitlab-ci.yml).")
    provider: Literal["auto", "github", "gitlab"] = Field(
        default="auto", description="Which CI definitions to read ('auto': whichever the folder holds)."
    )
    default_branch: str | None = Field(
        default=None, description="The branch production deploys from (default: main or master)."
    )


class TypeSelection(_Strict):
    include: list[str] = Field(default_factory=lambda: ["*"], description="Terraform type globs to list.")
    exclude: list[str] = Field(default_factory=list, description="Terraform type globs never listed.")


# An AWS region name: a two-letter area, one or more words, a number (eu-west-1, us-gov-west-1, cn-north-1,
# us-isob-east-1, ap-southeast-5). Checked when parity.yaml is loaded, so a typo is an error naming its line
# rather than a region that cannot be listed.
AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


class AwsSource(_SourceBase):
    """A live AWS account: listed with read-only calls (see `parity permissions`)."""

    kind: Literal["aws"]
    regions: list[str] | Literal["all"] = Field(
        default_factory=list,
        description="Regions to list, or 'all' (every region enabled in the account). Default: the profile's "
        "or AWS_REGION's region.",
    )
    profile: str | None = Field(default=None, description="A named profile from ~/.aws/config.")
    role_arn: str | None = Field(default=None, description="A role to assume for this environment.")
    external_id: str | None = Field(default=None, description="ExternalId for the assume-role call.")
    endpoint_url: str | None = Field(default=None, description="An AWS-compatible endpoint (LocalStack, moto).")
    resource_types: TypeSelection = Field(default_factory=TypeSelection)
    max_workers: int = Field(default=8, ge=1, le=64, description="Listings run at once.")

    @field_validator("role_arn")
    @classmethod
    def _role_is_arn(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/.+", v):
            raise ValueError(f"{v!r} is not a role ARN (arn:aws:iam::123456789012:role/name)")
        return v

    @field_validator("regions")
    @classmethod
    def _regions_are_names(cls, v: list[str] | Literal["all"]) -> list[str] | Literal["all"]:
        if isinstance(v, list):
            for i, region in enumerate(v):
                if not AWS_REGION.fullmatch(region):
                    shown = repr(region) if len(region) <= 60 else repr(region[:60]) + "..."
                    raise _At((i,), f"{shown} is not an AWS region name (like eu-west-1, us-gov-west-1, cn-north-1)")
        return v


SourceConfig = Annotated[
    TerraformStateSource
    | TerraformPlanSource
    | KubernetesManifestsSource
    | ConfigFilesSource
    | PipelineSource
    | AwsSource,
    Field(discriminator="kind"),
]

DEFAULT_ROLES: dict[str, Role] = {
    "terraform-state": "declared",
    "terraform-plan": "declared",
    "kubernetes-manifests": "declared",
    "config": "declared",
    "pipeline": "declared",
    "aws": "live",
}


class Environment(_Strict):
    sources: list[SourceConfig] = Field(default_factory=list)
    accounts: list[str] = Field(
        default_factory=list,
        description="Cloud account ids that belong to this environment (for cross-environment references).",
    )
    hostnames: list[str] = Field(
        default_factory=list,
        description="Domain names that belong to this environment, e.g. prod.example.com.",
    )
    deploy_roles: list[str] = Field(
        default_factory=list,
        description="The principals that deploy to this environment: IAM role or user ARNs, or globs of them "
        "(arn:aws:iam::*:role/ci-deploy*). A glob with no ':' or '/' matches an IAM user's or role's name, never "
        "a session name (which the caller chooses). A CloudTrail change by anyone else is called out as "
        "out-of-band (see docs/promotion.md, attribution). Empty: every change is reported without that judgement.",
    )

    @field_validator("accounts")
    @classmethod
    def _accounts_are_ids(cls, v: list[str]) -> list[str]:
        for a in v:
            if not re.fullmatch(r"\d{12}", a):
                raise ValueError(f"account id {a!r} is not 12 digits")
        return v


_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|s)")
_DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_MAX_DURATION_S = int(dt.timedelta.max.total_seconds())


def parse_duration(text: str) -> dt.timedelta:
    """``"3d"``, ``"12h"``, ``"1w 2d"``, ``"90m"`` -> a timedelta. Raises ValueError on anything else."""
    parts = _DURATION.findall(text.strip())
    if not parts or _DURATION.sub("", text).strip():
        raise ValueError(f"{text!r} is not a duration (e.g. 3d, 12h, 1w, 90m)")
    seconds = sum(int(n) * _DURATION_UNITS[u] for n, u in parts)
    # timedelta stops at 999,999,999 days; past it Python raises OverflowError, which is not a ValueError
    if seconds > _MAX_DURATION_S:
        raise ValueError(f"{text!r} is too long a duration (at most {dt.timedelta.max.days:,}d)")
    return dt.timedelta(seconds=seconds)


ArtifactKind = Literal["image", "lambda_code", "helm_chart", "module", "config_value"]
ARTIFACT_KINDS: tuple[ArtifactKind, ...] = ("image", "lambda_code", "helm_chart", "module", "config_value")


class PromotionRules(_Strict):
    """How the promotion ledger judges the path between consecutive `promotion` stages (docs/promotion.md)."""

    backport_delay: str = Field(
        default="3d",
        description="How long an earlier stage may lack a change made in a later stage before it is "
        "not_backported (e.g. 3d, 12h, 1w).",
    )
    artifacts: list[ArtifactKind] = Field(
        default_factory=lambda: list(ARTIFACT_KINDS),
        description="Which artifacts the ledger follows: container images, Lambda code hashes, Helm chart "
        "versions, Terraform module versions, configuration values.",
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="Globs of artifacts never judged, matched against the artifact (ghcr.io/acme/debug:*) and "
        "its slot (values-{env}.yaml#FEATURE_*).",
    )

    @field_validator("backport_delay")
    @classmethod
    def _delay_is_duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @property
    def delay(self) -> dt.timedelta:
        return parse_duration(self.backport_delay)


class AttributionSettings(_Strict):
    """Who changed a drifted AWS resource, from CloudTrail's event history (cloudtrail:LookupEvents)."""

    enabled: bool = Field(default=True, description="Look up CloudTrail for changed/unmanaged AWS findings.")
    lookback: str = Field(default="7d", description="How far back to look (CloudTrail keeps 90 days).")
    max_lookups: int = Field(
        default=20, ge=0, le=500, description="At most this many LookupEvents calls per scan (2 per second)."
    )

    @field_validator("lookback")
    @classmethod
    def _lookback_is_duration(cls, v: str) -> str:
        if parse_duration(v) > dt.timedelta(days=90):
            raise ValueError("CloudTrail's event history keeps 90 days: lookback must be 90d or less")
        return v

    @property
    def window(self) -> dt.timedelta:
        return parse_duration(self.lookback)


class Naming(_Strict):
    tokens: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per environment, the tokens that stand for it in names, hostnames and paths "
        "(default: its name and the usual aliases, e.g. prod/prd/production).",
    )
    pair_tags: list[str] = Field(
        default_factory=lambda: ["app", "component", "service", "Name"],
        description="Tags whose value pairs resources across environments, tried in order.",
    )


class Expected(_Strict):
    """An intended difference between mirrors: suppressed, and listed as expected in the report."""

    reason: str = Field(min_length=1)
    type: str = Field(default="*", description="Resource type glob.")
    key: str = Field(default="*", description="Resource key glob.")
    path: str = Field(default="*", description="Attribute path glob, e.g. spec.replicas or instance_class.")
    environments: list[str] | None = Field(default=None, description="Only between these environments.")

    def matches(self, type_: str, key: str, path: str, envs: tuple[str, ...]) -> bool:
        """Whether this rule covers a difference at ``path`` of a ``type_``/``key`` resource between ``envs``:
        matched by :func:`parity.globs.rule_matches`, as mirror comparison matches it (brackets match
        themselves, a path covers the paths beneath it)."""
        return rule_matches(self.type, self.key, self.path, self.environments, type_, key, path, envs)


class Ignore(_Strict):
    """A known divergence tolerated with an owner, a reason and an expiry."""

    owner: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    expires: dt.date
    kind: str = Field(default="*", description="Finding kind glob.")
    type: str = Field(default="*")
    key: str = Field(default="*")
    path: str | None = Field(default=None, description="Only this attribute path glob (default: whole finding).")
    environments: list[str] | None = None

    @field_validator("kind")
    @classmethod
    def _kind_known(cls, v: str) -> str:
        if not any(fnmatch.fnmatchcase(k, v) for k in FINDING_KINDS):
            raise ValueError(f"matches no finding kind (known: {', '.join(FINDING_KINDS)})")
        return v

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


class _RuleBase(_Strict):
    environments: list[str] = Field(min_length=1, description="The environments the rule applies to.")


class PipelineProtectedEnvironmentRule(_RuleBase):
    """Deploy jobs must name a protected environment (GitHub `environment:`; GitLab `environment:` and a
    manual gate), so the reviewers configured for it in the repository settings apply."""

    rule: Literal["pipeline_protected_environment"]


class PipelineNoStaticCloudKeysRule(_RuleBase):
    """Deploy jobs must not use long-lived cloud keys (AWS access keys, GCP JSON keys, Azure client
    secrets); OIDC federation instead."""

    rule: Literal["pipeline_no_static_cloud_keys"]


class PipelinePinnedActionsRule(_RuleBase):
    """`uses:` in deploy jobs must be pinned to a full 40-hex commit SHA (local ./ actions exempt)."""

    rule: Literal["pipeline_pinned_actions"]
    allow: list[str] = Field(
        default_factory=list,
        description="Action globs allowed unpinned, e.g. 'actions/*' (default: none; first-party too).",
    )


class NoAdminHumansRule(_RuleBase):
    """No human principal (an IAM user, or a role people assume: SSO, SAML, IAM users) holds
    admin-equivalent permissions (every action on every resource, or IAM permission management on `*`)."""

    rule: Literal["no_admin_humans"]


class MaxGrantAgeRule(_RuleBase):
    """Privileged grants held by humans and defined in no Terraform state (by hand) must not be older
    than `days` (e.g. 7 in staging: debug access is temporary)."""

    rule: Literal["max_grant_age"]
    days: int = Field(ge=0, description="The oldest a grant outside code may be, in days.")


class NoWildcardResourceForRule(_RuleBase):
    """No principal may be allowed actions of these services on `Resource: "*"` (actions that cannot be
    scoped to a resource, such as s3:ListAllMyBuckets, are exempt)."""

    rule: Literal["no_wildcard_resource_for"]
    services: list[str] = Field(min_length=1, description="IAM service prefixes, e.g. [s3, kms, secretsmanager].")


# One model per rule, discriminated by `rule:` (pipeline rules: docs/pipelines.md; permission rules:
# docs/permissions.md).
RuleConfig = Annotated[
    PipelineProtectedEnvironmentRule
    | PipelineNoStaticCloudKeysRule
    | PipelinePinnedActionsRule
    | NoAdminHumansRule
    | MaxGrantAgeRule
    | NoWildcardResourceForRule,
    Field(discriminator="rule"),
]
RULE_NAMES: tuple[str, ...] = (
    "pipeline_protected_environment",
    "pipeline_no_static_cloud_keys",
    "pipeline_pinned_actions",
    "no_admin_humans",
    "max_grant_age",
    "no_wildcard_resource_for",
)


class ParityConfig(_Strict):
    """The whole ``parity.yaml``."""

    store: str = Field(default=DEFAULT_STORE, description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://...")
    environments: dict[str, Environment] = Field(min_length=1)
    promotion: list[str] = Field(default_factory=list, description="Environment names, earliest stage first.")
    mirrors: list[tuple[str, str]] | None = Field(
        default=None,
        description="Pairs of environments that should match (default: neighbours in the promotion order).",
    )
    naming: Naming = Field(default_factory=Naming)
    expected: list[Expected] = Field(default_factory=list)
    ignore: list[Ignore] = Field(default_factory=list)
    rules: list[RuleConfig] = Field(
        default_factory=list, description="Policy rules (see docs/pipelines.md, docs/permissions.md)."
    )
    promotion_rules: PromotionRules = Field(
        default_factory=PromotionRules, description="The promotion ledger's judgement (docs/promotion.md)."
    )
    attribution: AttributionSettings = Field(
        default_factory=AttributionSettings, description="CloudTrail attribution of AWS drift (docs/promotion.md)."
    )

    watch: WatchConfig = Field(default_factory=WatchConfig, description="`parity watch` (see docs/watch.md).")
    alerts: list[AlertConfig] = Field(
        default_factory=list, description="Notifiers for new and recurring findings (see docs/watch.md)."
    )

    @field_validator("environments")
    @classmethod
    def _environment_names_storable(cls, v: dict[str, Environment]) -> dict[str, Environment]:
        for name in v:
            shown = f"environments.{name[:40]}…" if len(name) > 40 else None
            if len(name) > MAX_NAME_LENGTH:
                raise _At((name,), f"environment name longer than {MAX_NAME_LENGTH} characters", shown)
            if _CONTROL.search(name):
                raise _At((name,), f"environment name {name!r} holds a control character", "environments")
        return v

    @model_validator(mode="after")
    def _names_exist(self) -> ParityConfig:
        known = set(self.environments)
        for i, name in enumerate(self.promotion):
            if name not in known:
                raise ValueError(f"promotion[{i}]: unknown environment {name!r} (known: {', '.join(sorted(known))})")
            if name in self.promotion[:i]:
                first = self.promotion.index(name)
                raise ValueError(f"promotion[{i}]: {name!r} is listed twice (also promotion[{first}]): each stage once")
        for env_name, environment in self.environments.items():
            seen: dict[str, int] = {}
            for j, src in enumerate(environment.sources):
                src_name = src.name or f"{src.kind}[{j}]"
                if src_name in seen:
                    where = ("environments", env_name, "sources", j)
                    if src.name:
                        raise _At((*where, "name"), f"duplicate source name {src_name!r}")
                    raise _At(
                        where,
                        f"its default name {src_name!r} is the name of sources[{seen[src_name]}]: rename that one",
                    )
                seen[src_name] = j
        scoped = [("expected", i, e.environments) for i, e in enumerate(self.expected)]
        scoped += [("ignore", i, g.environments) for i, g in enumerate(self.ignore)]
        for section, i, names in scoped:
            for j, name in enumerate(names or []):
                if name not in known:
                    raise ValueError(
                        f"{section}[{i}].environments[{j}]: unknown environment {name!r}"
                        f" (known: {', '.join(sorted(known))})"
                    )
        for i, e in enumerate(self.expected):
            # an expected difference is between two environments: a rule naming fewer can never apply
            distinct = list(dict.fromkeys(e.environments or []))
            if e.environments is not None and len(distinct) < 2:
                what = f"only one environment ({distinct[0]})" if distinct else "no environment"
                raise ValueError(
                    f"expected[{i}].environments: names {what}; an expected difference is between two "
                    "environments, so this rule would never apply: name both, or leave environments out"
                )
        mirrors = self.mirrors or []
        pairs: dict[frozenset[str], int] = {}  # a pair given twice, also reversed, would be compared twice
        for i, pair in enumerate(mirrors):
            for name in pair:
                if name not in known:
                    raise ValueError(f"mirrors[{i}]: unknown environment {name!r}")
            if pair[0] == pair[1]:
                raise ValueError(f"mirrors[{i}]: an environment cannot mirror itself")
            both = frozenset(pair)
            if both in pairs:
                first = pairs[both]
                shown = f"[{pair[0]}, {pair[1]}]"
                again = f"is mirrors[{first}] reversed" if pair != mirrors[first] else f"is also mirrors[{first}]"
                raise ValueError(f"mirrors[{i}]: {shown} {again}: a pair is compared in both directions, list it once")
            pairs[both] = i
        for env in self.naming.tokens:
            if env not in known:
                raise ValueError(f"naming.tokens: unknown environment {env!r}")
        for i, rule in enumerate(self.rules):
            for j, name in enumerate(rule.environments):
                if name not in known:
                    raise ValueError(f"rules[{i}].environments[{j}]: unknown environment {name!r}")
        for env in self.watch.environments:
            if env not in known:
                raise ValueError(f"watch.environments: unknown environment {env!r}")
        ids = [a.id for a in self.alerts]
        for i, a in enumerate(self.alerts):
            if ids.count(a.id) > 1:
                raise ValueError(f"alerts[{i}]: two notifiers named {a.id!r}: give each a unique 'name'")
        return self

    # Derived views -------------------------------------------------------------------------------

    def mirror_pairs(self) -> list[tuple[str, str]]:
        if self.mirrors is not None:
            return [tuple(p) for p in self.mirrors]  # type: ignore[misc]
        order = self.promotion or list(self.environments)
        return list(itertools.pairwise(order))

    def tokens_for(self, env: str) -> tuple[str, ...]:
        """The tokens that stand for ``env`` in names: configured, else its name plus the usual aliases."""
        if env in self.naming.tokens:
            return tuple(t.lower() for t in self.naming.tokens[env])
        low = env.lower()
        for group in DEFAULT_TOKEN_GROUPS:
            if low in group:
                return tuple(dict.fromkeys((low, *group)))
        return (low,)

    def all_tokens(self) -> dict[str, tuple[str, ...]]:
        return {env: self.tokens_for(env) for env in self.environments}

    def stage_index(self, env: str) -> int | None:
        return self.promotion.index(env) if env in self.promotion else None


class LoadedConfig:
    """A validated config plus where it came from (relative paths resolve against its folder)."""

    def __init__(self, config: ParityConfig, path: Path) -> None:
        self.config = config
        self.path = path
        self.base_dir = path.parent

    def resolve(self, p: str) -> Path:
        q = Path(os.path.expanduser(p))
        return q if q.is_absolute() else self.base_dir / q

    def check_environments(self, names: Iterable[str]) -> list[str]:
        """``names`` as a list, or UsageError naming the first that parity.yaml does not define."""
        known = self.config.environments
        out = []
        for n in names:
            if n not in known:
                raise UsageError(f"unknown environment {n!r} (parity.yaml defines: {', '.join(known)})")
            out.append(n)
        return out

    def state_dir(self) -> Path:
        """Where parity keeps its own files (.parity/ beside the config)."""
        return self.base_dir / ".parity"

    def store_url(self) -> str:
        url = self.config.store
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            return prefix + str(self.resolve(url[len(prefix) :]))
        return url

    def source_name(self, env: str, index: int) -> str:
        src = self.config.environments[env].sources[index]
        return src.name or f"{src.kind}[{index}]"

    def source_role(self, src: Any) -> Role:
        return src.role or DEFAULT_ROLES.get(src.kind, "declared")


# Loading ----------------------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the node it is constructing: PyYAML's constructors raise ValueError or
    KeyError, without a position, for a value its tag cannot hold (``2026-02-30``, ``!!bool maybe``)."""

    current: yaml.Node | None = None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        self.current = node
        return super().construct_object(node, deep)


# How deep a parity.yaml may nest. The schema is under 10 levels; the limit keeps the recursive walks below
# (and PyYAML's composer) from failing with RecursionError instead of naming a line.
MAX_CONFIG_DEPTH = 100


def _check_shape(root: yaml.Node, file: str) -> None:
    """Refuse alias cycles, alias "billion laughs" and absurd nesting before anything walks the tree.

    Every later step (construction, interpolation, validation) sees aliases expanded, so a few lines of
    anchors could make them run for hours; the same limit as the config source's YAML reader applies.
    Sizes are memoised per node, so this check itself never expands an alias twice.
    """
    # imported here: the config source's package imports this module
    from parity.sources.config.yamlio import MAX_NODES

    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        line = node.start_mark.line + 1
        if id(node) in active:
            raise ConfigError(file, "a YAML alias refers to itself (recursive structure)", line)
        if depth > MAX_CONFIG_DEPTH:
            raise ConfigError(file, f"nested more than {MAX_CONFIG_DEPTH} levels deep", line)
        total = 1
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            active.add(id(node))
            children: list[yaml.Node] = (
                [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
            )
            for child in children:
                total += size(child, depth + 1)
                if total > MAX_NODES:
                    raise ConfigError(file, f"expands to more than {MAX_NODES:,} values (YAML aliases?)", line)
            active.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root, 0)


_MERGE = "tag:yaml.org,2002:merge"


def _positions(root: yaml.Node, file: str, paths: dict[int, tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
    """The line of every mapping key and sequence item, by path; ``paths`` gets the path of every node.

    A node reached again through an alias is not walked again: paths below an alias fall back to the
    alias's own line (see :func:`_line_of`), which is where the user can act.
    """
    out: dict[tuple[Any, ...], int] = {}
    walked: set[int] = set()

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        out.setdefault(path, node.start_mark.line + 1)
        if id(node) in walked:
            return
        walked.add(id(node))
        paths[id(node)] = path
        if isinstance(node, yaml.MappingNode):
            own: dict[str, int] = {}
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode):
                    raise ConfigError(file, "a key must be a plain value, not a list or mapping", k.start_mark.line + 1)
                key = k.value
                if k.tag != _MERGE:  # a key set twice: YAML keeps the last silently, hiding the first
                    if key in own:
                        raise ConfigError(
                            file, f"{key!r} is set twice in one mapping (first on line {own[key]})",
                            k.start_mark.line + 1,
                        )  # fmt: skip
                    own[key] = k.start_mark.line + 1
                out[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    walk(root, ())
    return out


def _interpolate(value: Any, path: tuple[Any, ...], file: str, lines: Mapping[tuple[Any, ...], int]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, (*path, k), file, lines) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*path, i), file, lines) for i, v in enumerate(value)]
    if isinstance(value, str) and "$" in value:
        return _expand(value, path, file, lines)
    return value


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _expand(text: str, path: tuple[Any, ...], file: str, lines: Mapping[tuple[Any, ...], int]) -> str:
    """``text`` with ``${VAR}`` and ``${VAR:-default}`` replaced from the environment, as a shell does: a
    default may itself hold ``${...}``, and ``$$`` is a literal ``$`` (so ``$${X}`` stays ``${X}``). An
    unclosed ``${`` or one without a variable name is an error, not text kept as written."""

    def fail(message: str) -> ConfigError:
        return ConfigError(file, f"{_dotted(path)}: {message}", _line_of(lines, path))

    def scan(i: int, inside: bool) -> tuple[str, int]:
        out: list[str] = []
        while i < len(text):
            ch = text[i]
            if ch == "$" and text.startswith("$$", i):
                out.append("$")
                i += 2
            elif ch == "$" and text.startswith("${", i):
                m = _NAME.match(text, i + 2)
                if m is None:
                    raise fail(f"'${{' at character {i + 1} is not followed by a variable name")
                name, j = m.group(), m.end()
                default: str | None = None
                if text.startswith(":-", j):
                    default, j = scan(j + 2, True)
                elif not text.startswith("}", j):
                    raise fail(f"'${{{name}' is not closed by '}}' (or ':-default}}')")
                else:
                    j += 1
                got = os.environ.get(name)
                if got is None:
                    if default is None:
                        raise fail(f"environment variable {name} is not set")
                    got = default
                out.append(got)
                i = j
            elif ch == "}" and inside:
                return "".join(out), i + 1
            else:
                out.append(ch)
                i += 1
        if inside:
            raise fail("a '${VAR:-default}' is not closed by '}'")
        return "".join(out), i

    return scan(0, False)[0]


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _line_of(lines: Mapping[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    # pydantic locations may name union branches ('terraform-state') that are not in the YAML: walk up.
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get((), None)


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop pydantic's union-branch tags from an error location so it is a path in the user's file.

    A part that is not in the data is a tag (a discriminator value such as 'terraform-state') unless it
    is the last one, which then names a missing or unknown key.
    """
    out: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        here = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if here:
            out.append(part)
            node = node[part]
        elif i == len(loc) - 1:
            out.append(part)
    return tuple(out)


def _compose(loader: _LineLoader, file: str) -> yaml.Node | None:
    try:
        return loader.get_single_node()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(file, f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except RecursionError:
        line = loader.get_mark().line + 1
        raise ConfigError(file, f"invalid YAML: nested more than {MAX_CONFIG_DEPTH} levels deep", line) from None


def _construct(loader: _LineLoader, node: yaml.Node, file: str, paths: Mapping[int, tuple[Any, ...]]) -> Any:
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(file, f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except (ValueError, KeyError, TypeError, OverflowError) as e:
        # PyYAML's constructors raise these, not YAMLError, for a value its explicit tag cannot hold
        # (`!!int abc`, `!!bool maybe`) or a date that does not exist (2026-02-30)
        bad = loader.current
        if bad is None:  # pragma: no cover - the constructor fails on some node
            raise ConfigError(file, f"invalid YAML: {e}") from None
        what = f"{bad.value!r} is not a valid {_tag_name(bad)}" if isinstance(bad, yaml.ScalarNode) else str(e)
        where = paths.get(id(bad))
        raise ConfigError(file, f"{_dotted(where) + ': ' if where else ''}{what}", bad.start_mark.line + 1) from None


def _tag_name(node: yaml.Node) -> str:
    name = str(node.tag).rsplit(":", 1)[-1]
    return {"timestamp": "date", "bool": "boolean", "int": "integer", "float": "number"}.get(name, name)


def parse_config(text: str, file: str) -> ParityConfig:
    """Validate ``text`` (YAML) as a parity config; errors name ``file`` and the line."""
    try:
        loader = _LineLoader(text)
    except yaml.reader.ReaderError as e:  # a character YAML does not allow
        line = text.count("\n", 0, e.position) + 1
        raise ConfigError(file, f"invalid YAML: {str(e).splitlines()[0]}", line) from None
    try:
        node = _compose(loader, file)
        if node is None:
            raise ConfigError(file, "the file is empty; run `parity init` for a starter config")
        _check_shape(node, file)
        paths: dict[int, tuple[Any, ...]] = {}
        lines = _positions(node, file, paths)
        data = _construct(loader, node, file, paths)
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(file, "the top level must be a mapping (store, environments, ...)", 1)
    data = _interpolate(data, (), file, lines)
    try:
        return ParityConfig.model_validate(data)
    except ValidationError as e:
        errors = sorted(e.errors(include_url=False), key=lambda x: _ERROR_RANK.get(x["type"], 9))
        err = errors[0]
        loc = _clean_loc(tuple(err["loc"]), data)
        msg = err["msg"]
        ctx = err.get("ctx") or {}
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}" + _suggest(loc, data)
        elif err["type"] == "union_tag_invalid" and loc[:1] == ("rules",):
            msg = f"unknown rule {ctx.get('tag')!r}; known: " + ", ".join(RULE_NAMES)
        elif err["type"] == "union_tag_not_found" and loc[:1] == ("rules",):
            msg = "a rule needs a 'rule' (one of: " + ", ".join(RULE_NAMES) + ")"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found") and loc[:1] == ("alerts",):
            msg = "an alert needs a 'kind': one of " + ", ".join(ALERT_KINDS)
        elif err["type"] == "union_tag_invalid":
            msg = f"unknown source kind {ctx.get('tag')!r}; known: " + ", ".join(DEFAULT_ROLES)
        elif err["type"] == "union_tag_not_found":
            msg = "a source needs a 'kind' (one of: " + ", ".join(DEFAULT_ROLES) + ")"
        elif err["type"] == "missing":
            msg = f"missing required key {loc[-1]!r}"
            loc = loc[:-1]
        elif err["type"] == "value_error" and isinstance(ctx.get("error"), _At):
            at: _At = ctx["error"]
            loc, msg = (*loc, *at.loc), at.message
            if at.shown is not None:
                raise ConfigError(file, f"{at.shown}: {msg}", _line_of(lines, loc)) from None
        elif err["type"] == "value_error":
            msg = str(ctx.get("error", msg))
            # model-level checks name their own place as "path: message"
            head, sep, rest = msg.partition(": ")
            if sep and not loc and _PATH.fullmatch(head):
                loc, msg = _parse_path(head), rest
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(file, f"{_dotted(loc)}: {msg}{more}", _line_of(lines, loc)) from None


_ERROR_RANK = {"extra_forbidden": 0, "union_tag_invalid": 1, "union_tag_not_found": 1}
_PATH = re.compile(r"[A-Za-z_][\w.-]*(\[\d+\])*(\.[\w-]+(\[\d+\])*)*")


def _parse_path(text: str) -> tuple[Any, ...]:
    out: list[Any] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", text):
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(out)


def _suggest(loc: tuple[Any, ...], data: Any) -> str:
    """' (did you mean 'path'?)' for a misspelt key, from the keys the schema allows at that level."""
    node = data
    for part in loc[:-1]:
        node = node[part]
    others = set(node) - {loc[-1]} if isinstance(node, dict) else set()
    schema = ParityConfig.model_json_schema()
    candidates: set[str] = set()
    for d in (schema, *schema.get("$defs", {}).values()):
        props = set(d.get("properties", {}))
        if others <= props:
            candidates |= props
    close = difflib.get_close_matches(str(loc[-1]), sorted(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_config(path: str | Path) -> LoadedConfig:
    p = Path(path)
    if not p.exists():
        raise ConfigError(str(p), "config file not found (create one with `parity init`, or pass -c FILE)")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ConfigError(str(p), f"cannot read: {e.strerror}") from None
    if b"\x00" in raw[:8192]:
        raise ConfigError(str(p), "is a binary file, not YAML")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(str(p), f"is not UTF-8 text (byte {e.start})") from None
    return LoadedConfig(parse_config(text, str(p)), p.resolve())


def json_schema() -> dict[str, Any]:
    schema = ParityConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "parity.yaml"
    return schema
