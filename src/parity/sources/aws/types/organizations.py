"""AWS Organizations: the service control policies (SCPs) that apply to the listed account.

SCPs limit every IAM principal of a member account: at each level of the organisation tree between the
root and the account (the root, each OU down the account's path, the account itself) at least one
attached SCP must allow an action, and any attached SCP may deny it. The permission analysis
(:mod:`parity.permissions`) applies them as one ceiling per level, so each policy carries the levels it
is attached at on this account's path: ``levels`` (0 = the root, then each OU, last the account) and
``level`` (the first of them).

Calls: ``DescribeOrganization`` (not in an organisation: nothing to list, and nothing missing),
``ListRoots`` (SCPs must be enabled on the root), ``ListParents`` from the account up to the root,
``ListPoliciesForTarget`` (filter ``SERVICE_CONTROL_POLICY``) for each node of that path and
``DescribePolicy`` for each policy found. Yields ``aws_organizations_policy`` (Terraform's id: the policy
id ``p-…``; ``content`` as a JSON string, ``name``, ``description``, ``type``, ``aws_managed``) and
``aws_organizations_policy_attachment`` (Terraform's id ``target_id:policy_id``) for the path's
attachments only: policies attached elsewhere in the organisation do not apply here.

Nothing is yielded for the management account (SCPs never limit it), for an organisation with only
consolidated billing, or when SCPs are not enabled on the root. Only the management account and a
delegated administrator may read the policies: a member account's listing is denied, which is a
coverage gap (the analysis then notes that the SCP layer was not checked), never "no SCPs".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# botocore is imported by the functions that catch its errors, when they run: every command that collects
# imports this module (parity.registry loads every source), with an AWS source or not.
from parity.model import Resource
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

SCP = "SERVICE_CONTROL_POLICY"
NOT_IN_USE = "AWSOrganizationsNotInUseException"
MAX_DEPTH = 7  # the root, at most five levels of OUs, the account: a bound on the ListParents walk


def _path(f: Fetch, org: Any) -> list[tuple[str, str]]:
    """(target id, type) from the root down to the account."""
    up: list[tuple[str, str]] = [(f.account, "ACCOUNT")]
    child = f.account
    for _ in range(MAX_DEPTH):
        parents = org.list_parents(ChildId=child).get("Parents", [])
        if not parents:
            break
        child, kind = str(parents[0]["Id"]), str(parents[0].get("Type", ""))
        up.append((child, kind))
        if kind == "ROOT":
            break
    return up[::-1]


def _scps(f: Fetch) -> Iterator[Resource]:
    import botocore.exceptions

    org = f.client("organizations")
    try:
        info = org.describe_organization()["Organization"]
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") == NOT_IN_USE:
            return  # not in an organisation: no SCPs, and nothing missed
        raise
    if info.get("FeatureSet", "ALL") != "ALL" or info.get("MasterAccountId") == f.account:
        return  # consolidated billing only, or the management account (SCPs never limit it)
    roots = [r for page in f.pages(org, "list_roots") for r in page.get("Roots", [])]
    enabled = any(
        t.get("Type") == SCP and t.get("Status") == "ENABLED" for r in roots for t in r.get("PolicyTypes", [])
    )
    if not enabled:
        return
    levels: dict[str, list[int]] = {}
    attachments: list[tuple[str, str, str, int]] = []
    for level, (target, kind) in enumerate(_path(f, org)):
        for page in f.pages(org, "list_policies_for_target", TargetId=target, Filter=SCP):
            for summary in page.get("Policies", []):
                pid = str(summary["Id"])
                levels.setdefault(pid, []).append(level)
                attachments.append((target, kind, pid, level))
    for pid, at in sorted(levels.items()):
        policy = org.describe_policy(PolicyId=pid)["Policy"]
        summary = policy.get("PolicySummary", {})
        name = str(summary.get("Name") or pid)
        attrs: dict[str, Any] = {
            "name": name,
            "description": str(summary.get("Description") or ""),
            "type": str(summary.get("Type") or SCP),
            "content": str(policy.get("Content") or ""),
            "aws_managed": bool(summary.get("AwsManaged", False)),
            "level": min(at),
            "levels": sorted(set(at)),
        }
        yield f.resource("aws_organizations_policy", pid, name=name, arn=summary.get("Arn"), attributes=attrs,
                         aws_managed=attrs["aws_managed"])  # fmt: skip
    for target, kind, pid, level in attachments:
        yield f.resource(
            "aws_organizations_policy_attachment",
            f"{target}:{pid}",
            attributes={"policy_id": pid, "target_id": target, "target_type": kind, "level": level},
        )


register(
    Lister(
        name="organizations.scps",
        service="organizations",
        global_=True,
        calls=(
            "organizations:DescribeOrganization",
            "organizations:ListRoots",
            "organizations:ListParents",
            "organizations:ListPoliciesForTarget",
            "organizations:DescribePolicy",
        ),
        types=(
            AwsType(
                "aws_organizations_policy",
                "service control policies applying to the account (content, levels on its OU path)",
                compared=("content",),
            ),
            AwsType(
                "aws_organizations_policy_attachment", "SCP attachments on the account's path (root, OUs, the account)"
            ),
        ),
        fetch=_scps,
        notes="member accounts are usually denied: only the management account or a delegated administrator "
        "reads the policies",
    )
)
