"""``parity types`` and ``parity permissions``: what the live AWS source lists, and the policy it needs."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from parity.cli.common import Format

# Calls every scan makes besides the listers': who am I, which regions exist, who changed a drifted
# resource (CloudTrail's event history, for attribution: parity.sources.aws.cloudtrail), and when a
# privileged principal last used its access (parity.sources.aws.last_accessed; the report it generates
# changes nothing in the account).
BASE_ACTIONS = (
    "sts:GetCallerIdentity",
    "ec2:DescribeRegions",
    "cloudtrail:LookupEvents",
    "iam:GenerateServiceLastAccessedDetails",
    "iam:GetServiceLastAccessedDetails",
)


def types(
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="Output format: table, json or markdown; sarif and junit print the table.",
            case_sensitive=False,
        ),
    ] = Format.table,
    pattern: Annotated[
        str | None, typer.Argument(help="Only types matching this glob, e.g. 'aws_iam_*'. Default: every type.")
    ] = None,
) -> None:
    """List the AWS resource types the live `aws` source reads.

    For each: its Terraform type, the listing that yields it, whether it is per region or per account,
    the API calls made, and what code-vs-live compares.

    \b
    Examples:
      parity types
      parity types 'aws_iam_*'
      parity types --format json
    """
    import fnmatch

    from parity.sources.aws.spec import listers

    rows: list[dict[str, Any]] = []
    for lst in sorted(listers().values(), key=lambda x: x.name):
        for t in lst.types:
            if pattern and not fnmatch.fnmatchcase(t.tf_type, pattern):
                continue
            rows.append(
                {
                    "type": t.tf_type,
                    "description": t.description,
                    "lister": lst.name,
                    "scope": "account" if lst.global_ else "region",
                    "calls": list(lst.calls),
                    "compared": list(t.compared),
                    "parent": t.parent[0] if t.parent else None,
                }
            )
    rows.sort(key=lambda r: r["type"])
    if fmt is Format.json:
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if fmt is Format.markdown:
        out = ["| type | description | scope | API calls | compared code vs live |", "|---|---|---|---|---|"]
        for r in rows:
            out.append(
                f"| `{r['type']}` | {r['description']} | {r['scope']} | {', '.join(r['calls'])} | "
                f"{', '.join(r['compared']) or 'all declared paths'} |"
            )
        sys.stdout.write("\n".join(out) + "\n")
        return
    table = Table(title=f"{len(rows)} AWS resource types", title_justify="left")
    for col in ("type", "description", "scope", "API calls", "compared code vs live"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            Text(r["type"]),
            Text(r["description"]),
            r["scope"],
            Text(", ".join(c.split(":", 1)[-1] for c in r["calls"])),
            Text(", ".join(r["compared"]) or "all declared paths"),
        )
    Console(highlight=False).print(table)


def required_actions() -> list[str]:
    from parity.sources.aws.guard import action_is_read
    from parity.sources.aws.spec import listers

    actions = set(BASE_ACTIONS)
    for lst in listers().values():
        actions.update(lst.calls)
    bad = sorted(a for a in actions if not action_is_read(a))
    if bad:  # a lister declaring a write is a bug: never print it as "read-only"
        raise RuntimeError(f"listers declare non-read actions: {', '.join(bad)}")
    return sorted(actions)


def permissions() -> None:
    """Print the read-only IAM policy the AWS scanner needs.

    Exactly the read-only calls of the registered types, as an IAM policy document (JSON). Attach it to
    the role parity assumes in each account (role_arn in parity.yaml).

    \b
    Examples:
      parity permissions > parity-readonly-policy.json
    """
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ParityReadOnly", "Effect": "Allow", "Action": required_actions(), "Resource": "*"}],
    }
    sys.stdout.write(orjson.dumps(policy, option=orjson.OPT_INDENT_2).decode() + "\n")
