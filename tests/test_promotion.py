"""The promotion ledger and its findings over stored scans (both store backends): promotion_bypass for what a
later stage runs that the earlier never held, not_backported for a later-stage change the earlier stage lacks
after backport_delay, and the artifact identity rules."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence

import pytest

from parity.compare.types import Inventory
from parity.config import ParityConfig, parse_config
from parity.model import Finding, Resource, Snapshot
from parity.promotion import analyse_promotion, ledger_for, parse_image
from parity.store import Store

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def config(stages: Sequence[str] = ("staging", "production"), extra: str = "") -> ParityConfig:
    envs = "\n".join(f"  {s}:\n    sources: [{{kind: config, path: x}}]" for s in stages)
    text = f"environments:\n{envs}\npromotion: [{', '.join(stages)}]\npromotion_rules: {{backport_delay: 3d}}\n{extra}"
    return parse_config(text, "parity.yaml")


def deployment(env: str, image: str, name: str = "api") -> Resource:
    ns = f"shop-{env}"
    attrs = {"metadata": {"name": name, "namespace": ns},
             "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}}  # fmt: skip
    return Resource("apps/v1/Deployment", f"{ns}/{name}", f"apps/v1/Deployment/{ns}/{name}", attrs, name=name)


def settings(env: str, **values: object) -> Resource:
    return Resource("config/env", "app.env", "app.env", dict(values), name="app.env")


def snap(env: str, *resources: Resource, at: dt.datetime, role: str = "declared", source: str = "files") -> Snapshot:
    return Snapshot(env, source, "config", role, at, tuple(resources))  # type: ignore[arg-type]


def record(store: Store, at: dt.datetime, snaps: Mapping[str, Sequence[Resource]]) -> None:
    store.record_scan(
        environments=list(snaps),
        snapshots=[snap(env, *rs, at=at) for env, rs in snaps.items()],
        findings=[],
        started_at=at,
        finished_at=at + dt.timedelta(seconds=5),
    )


def judge(store: Store, cfg: ParityConfig, now: dt.datetime) -> list[Finding]:
    ledger = ledger_for(cfg, store, now=now)
    found, _notes = analyse_promotion(ledger, cfg, now)
    return found


def kinds(found: Sequence[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.kind, ",".join(f.environments), str(f.changes[0].right)) for f in found)


def test_an_image_only_in_production_is_a_bypass(store: Store) -> None:
    cfg = config()
    record(store, T0, {"staging": [deployment("staging", "ghcr.io/acme/api:3.0")],
                       "production": [deployment("production", "ghcr.io/acme/api:3.0-hotfix")]})  # fmt: skip
    found = judge(store, cfg, T0 + dt.timedelta(days=10))
    assert kinds(found) == [("promotion_bypass", "staging,production", "ghcr.io/acme/api:3.0-hotfix")]
    f = found[0]
    assert f.severity == "high" and f.resources == {"production": "shop-production/api"}
    assert f.changes[0].path == "spec.template.spec.containers[api].image"
    assert f.changes[0].left == "ghcr.io/acme/api:3.0"  # what staging runs in the same slot
    # found in the first scan: parity does not know when production changed, so never not_backported


def test_a_clean_chain_gives_nothing(store: Store) -> None:
    cfg = config()
    record(store, T0, {"staging": [deployment("staging", "ghcr.io/acme/api:3.1")],
                       "production": [deployment("production", "ghcr.io/acme/api:3.0")]})  # fmt: skip
    # staging moves on; production follows with what staging ran (and a workload staging calls differently)
    record(store, T0 + dt.timedelta(days=1), {"staging": [deployment("staging", "ghcr.io/acme/api:3.2")]})
    later = [deployment("production", "ghcr.io/acme/api:3.1"), deployment("production", "ghcr.io/acme/api:3.2", "v2")]
    record(store, T0 + dt.timedelta(days=2), {"production": later})
    assert judge(store, cfg, T0 + dt.timedelta(days=30)) == []


def test_docker_hub_spellings_are_one_repository(store: Store) -> None:
    record(store, T0, {"staging": [deployment("staging", "docker.io/library/nginx:1.27")],
                       "production": [deployment("production", "nginx:1.27")]})  # fmt: skip
    assert judge(store, config(), T0) == []


def test_a_production_change_is_not_backported_only_after_the_delay(store: Store) -> None:
    cfg = config()
    record(store, T0, {"staging": [settings("staging", HTTP_RETRY_MAX="3")],
                       "production": [settings("production", HTTP_RETRY_MAX="3")]})  # fmt: skip
    changed_at = T0 + dt.timedelta(hours=1)
    record(store, changed_at, {"production": [settings("production", HTTP_RETRY_MAX="5")]})

    within = judge(store, cfg, changed_at + dt.timedelta(days=2))
    assert kinds(within) == [("promotion_bypass", "staging,production", "5")]  # at once: never ran in staging
    assert within[0].severity == "medium"  # a configuration value

    after = judge(store, cfg, changed_at + dt.timedelta(days=4))
    assert kinds(after) == [
        ("not_backported", "staging,production", "5"),
        ("promotion_bypass", "staging,production", "5"),
    ]
    nb = next(f for f in after if f.kind == "not_backported")
    assert nb.changes[0].left == "3" and "backport_delay 3d" in nb.message
    assert nb.id != next(f for f in after if f.kind == "promotion_bypass").id

    # staging moves on to something newer: no longer behind, but 5 still never ran there
    record(store, changed_at + dt.timedelta(days=5), {"staging": [settings("staging", HTTP_RETRY_MAX="4")]})
    assert kinds(judge(store, cfg, changed_at + dt.timedelta(days=6))) == [
        ("promotion_bypass", "staging,production", "5")
    ]
    # backported: staging has held 5, nothing is left
    record(store, changed_at + dt.timedelta(days=7), {"staging": [settings("staging", HTTP_RETRY_MAX="5")]})
    assert judge(store, cfg, changed_at + dt.timedelta(days=8)) == []


def test_three_stages(store: Store) -> None:
    cfg = config(("dev", "staging", "production"))
    record(store, T0, {"dev": [deployment("dev", "ghcr.io/acme/api:4.0"), deployment("dev", "ghcr.io/acme/w:1", "w")],
                       "staging": [deployment("staging", "ghcr.io/acme/api:3.9"),
                                   deployment("staging", "ghcr.io/acme/w:2", "w")],
                       "production": [deployment("production", "ghcr.io/acme/api:4.0"),
                                      deployment("production", "ghcr.io/acme/w:1", "w")]})  # fmt: skip
    got = kinds(judge(store, cfg, T0))
    assert got == [
        ("promotion_bypass", "dev,staging", "ghcr.io/acme/api:3.9"),  # staging runs builds dev never ran
        ("promotion_bypass", "dev,staging", "ghcr.io/acme/w:2"),
        ("promotion_bypass", "staging,production", "ghcr.io/acme/api:4.0"),  # dev ran it; staging never did
        ("promotion_bypass", "staging,production", "ghcr.io/acme/w:1"),
    ]


def test_an_earlier_stage_never_scanned_is_a_note_not_a_flood(store: Store) -> None:
    cfg = config()
    record(store, T0, {"production": [deployment("production", "ghcr.io/acme/api:1")]})
    ledger = ledger_for(cfg, store, now=T0)
    found, notes = analyse_promotion(ledger, cfg, T0)
    assert found == [] and notes == [
        "promotion staging -> production: staging was never scanned; the path is not judged"
    ]


def test_expected_and_excluded_are_never_judged(store: Store) -> None:
    extra = (
        "expected: [{type: config/env, path: REPLICAS, reason: production runs more}]\n"
        "promotion_rules: {backport_delay: 3d, exclude: ['nicolaka/netshoot:*']}\n"
    )
    cfg = parse_config(_yaml(extra), "parity.yaml")
    record(store, T0, {"staging": [settings("staging", REPLICAS=2, SECRET="<redacted:abc>")],
                       "production": [settings("production", REPLICAS=6, SECRET="<redacted:def>"),
                                      deployment("production", "nicolaka/netshoot:latest", "debug")]})  # fmt: skip
    assert judge(store, cfg, T0) == []
    # without the rules both show (the redacted secret never does)
    got = kinds(judge(store, config(), T0))
    assert got == [("promotion_bypass", "staging,production", "6"),
                   ("promotion_bypass", "staging,production", "nicolaka/netshoot:latest")]  # fmt: skip


def _yaml(extra: str) -> str:
    envs = "\n".join(f"  {s}:\n    sources: [{{kind: config, path: x}}]" for s in ("staging", "production"))
    return f"environments:\n{envs}\npromotion: [staging, production]\n{extra}"


def test_the_scan_being_run_is_laid_over_the_history(store: Store) -> None:
    """Current inventories (not stored yet) count as an observation at now: a new image is first seen now."""
    cfg = config()
    record(store, T0, {"staging": [deployment("staging", "ghcr.io/acme/api:1")],
                       "production": [deployment("production", "ghcr.io/acme/api:1")]})  # fmt: skip
    now = T0 + dt.timedelta(days=10)
    current = {
        "production": Inventory(
            "production", (snap("production", deployment("production", "ghcr.io/acme/api:2"), at=now),)
        )
    }
    ledger = ledger_for(cfg, store, current=current, now=now)
    sightings = {(s.artifact.shown, s.present) for s in ledger.sightings["production"]}
    assert sightings == {("ghcr.io/acme/api:1", False), ("ghcr.io/acme/api:2", True)}
    found, _ = analyse_promotion(ledger, cfg, now)
    assert kinds(found) == [("promotion_bypass", "staging,production", "ghcr.io/acme/api:2")]  # first seen now


def test_ecs_and_lambda_artifacts(store: Store) -> None:
    cfg = config()

    def td(env: str, image: str) -> Resource:
        defs = json.dumps([{"name": "web", "image": image}])
        return Resource("aws_ecs_task_definition", "web", "aws_ecs_task_definition.web",
                        {"family": "web", "container_definitions": defs})  # fmt: skip

    def fn(code: str) -> Resource:
        return Resource("aws_lambda_function", "thumbs", "aws_lambda_function.thumbs", {"source_code_hash": code})

    stg_acct, prd_acct = "310987654321", "742113698250"
    ecr = "{}.dkr.ecr.eu-west-1.amazonaws.com/shop-{}/web:7"
    cfg = parse_config(
        _yaml("")
        .replace("  staging:\n", f"  staging:\n    accounts: ['{stg_acct}']\n")
        .replace("  production:\n", f"  production:\n    accounts: ['{prd_acct}']\n"),
        "parity.yaml",
    )
    record(store, T0, {"staging": [td("staging", ecr.format(stg_acct, "staging")), fn("AAA=")],
                       "production": [td("production", ecr.format(prd_acct, "production")), fn("BBB=")]})  # fmt: skip
    got = judge(store, cfg, T0)
    # the per-account, per-environment ECR repositories are one repository; the code is not the same
    assert [(f.type, f.changes[0].path, f.changes[0].right) for f in got] == [
        ("aws_lambda_function", "source_code_hash", "BBB=")
    ]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("ghcr.io/acme/api:1.0@sha256:" + "a" * 64, "mirror.local/api@sha256:" + "a" * 64, True),  # digest wins
        ("ghcr.io/acme/api:1.0@sha256:" + "a" * 64, "ghcr.io/acme/api:1.0@sha256:" + "b" * 64, False),
        ("ghcr.io/acme/api:1.0", "ghcr.io/acme/api:1.0@sha256:" + "b" * 64, True),  # one digest: repo + tag
        ("ghcr.io/acme/api@sha256:" + "a" * 64, "ghcr.io/acme/api:1.0", False),  # nothing to compare by
        ("nginx", "docker.io/library/nginx:latest", True),
        ("index.docker.io/acme/x:2", "acme/x:2", True),
        ("localhost:5000/x:2", "localhost:5000/x:3", False),
        ("GHCR.io/Acme/API:1", "ghcr.io/acme/api:1", True),
    ],
)  # fmt: skip
def test_image_identity(a: str, b: str, same: bool) -> None:
    ia, ib = parse_image(a), parse_image(b)
    assert ia is not None and ib is not None
    assert ia.same_as(ib) is same and ib.same_as(ia) is same


@pytest.mark.parametrize("ref", ["", "${IMAGE}", "two words", "repo@notadigest", "repo:"])
def test_not_images(ref: str) -> None:
    assert parse_image(ref) is None
