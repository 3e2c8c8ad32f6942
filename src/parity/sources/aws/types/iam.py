"""IAM: roles, users, groups, customer managed policies, inline policies, attachments, group
memberships, access keys (metadata only) and instance profiles.

One paginated ``GetAccountAuthorizationDetails`` call yields users, groups, roles and customer managed
policies (every version), their inline policies, attachments and group memberships. What it lacks is
read separately: a role's description and maximum session duration (``ListRoles``), a policy's tags
(``ListPolicyTags``, one call per customer managed policy). Access keys and instance profiles are
listers of their own, so a denial of one of those calls leaves the rest of IAM covered.

Ids are Terraform's: names for roles, users, groups and instance profiles, the ARN for policies,
``role:policy`` for inline policies, the access key id for keys. Policy attachments carry a random
suffix in Terraform (``role-20201118162849968800000001``), so the live attachment gets Terraform's
import id ``role/policy_arn`` and the type declares ``native_id`` computing the same from a state.
For group membership, ``aws_iam_group_membership`` (exclusive: one resource per group listing all its
users) maps cleanly: live id = the group name, ``native_id`` = the state's ``group``.
``aws_iam_user_group_membership`` (non-exclusive, several per user allowed) has no one-to-one live
counterpart and is not listed.

Policy documents are kept complete as JSON strings (role trust policy ``assume_role_policy``, inline
``policy``, managed policy default version ``policy``): the effective-permissions analysis reuses
:func:`authorization_details`. The real API returns them URL-encoded; botocore usually decodes them
into structures already; both shapes are accepted (:func:`policy_json`).

For the effective-permissions analysis (:mod:`parity.permissions`) the AWS managed policies *attached* in
the account are listed too (``ListPolicies`` scope AWS, only attached, and ``GetPolicyVersion`` of each
default version), as ``aws_iam_policy`` resources owned by AWS; users carry ``create_date``, roles
``last_used`` (``RoleLastUsed``), policies ``update_date`` (the default version's date).

Ownership: roles under ``/aws-service-role/`` (service-linked) and ``/aws-reserved/`` (created by IAM
Identity Center) are AWS's, and so are their inline policies and attachments. AWS managed policies
are not listed as resources (the listing asks for local policies only).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

AWS_ROLE_PATHS = ("/aws-service-role/", "/aws-reserved/")
# Users, groups, roles and customer managed policies: AWS managed policies are not resources here.
LOCAL_FILTER = ("User", "Role", "Group", "LocalManagedPolicy")


def policy_json(doc: object) -> str:
    """A policy document as a JSON string: decoded when URL-encoded (``%7B...``), dumped when parsed."""
    if isinstance(doc, str):
        return unquote(doc) if doc[:3].upper() == "%7B" else doc
    return json.dumps(doc)


def _date(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "" if value is None else str(value)


def authorization_details(f: Fetch, filters: tuple[str, ...] = LOCAL_FILTER) -> dict[str, list[dict[str, Any]]]:
    """Every page of ``GetAccountAuthorizationDetails`` merged, each policy document a JSON string
    (``AssumeRolePolicyDocument``, inline ``PolicyDocument``, version ``Document``)."""
    iam = f.client("iam")
    out: dict[str, list[dict[str, Any]]] = {
        "UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []
    }  # fmt: skip
    for page in f.pages(iam, "get_account_authorization_details", Filter=list(filters)):
        for k, items in out.items():
            items.extend(page.get(k, []))
    for role in out["RoleDetailList"]:
        if "AssumeRolePolicyDocument" in role:
            role["AssumeRolePolicyDocument"] = policy_json(role["AssumeRolePolicyDocument"])
    for kind, field in (("User", "UserPolicyList"), ("Group", "GroupPolicyList"), ("Role", "RolePolicyList")):
        for principal in out[f"{kind}DetailList"]:
            for p in principal.get(field, []):
                p["PolicyDocument"] = policy_json(p.get("PolicyDocument", "{}"))
    for pol in out["Policies"]:
        pol.setdefault("PolicyName", str(pol.get("Arn", "")).rsplit("/", 1)[-1])  # moto omits it
        for v in pol.get("PolicyVersionList", []):
            v["Document"] = policy_json(v.get("Document", "{}"))
    return out


def default_document(policy: Mapping[str, Any]) -> str:
    """A managed policy's default version document (JSON string; empty when none is listed)."""
    for v in policy.get("PolicyVersionList", []):
        if v.get("IsDefaultVersion") or v.get("VersionId") == policy.get("DefaultVersionId"):
            return str(v.get("Document", ""))
    return ""


def _child(f: Fetch, tf_type: str, id: str, key: str, *, aws_managed: bool = False, **kw: Any) -> Resource:
    """A resource without an ARN of its own: keyed under its principal's ARN, no invented ``arn`` attribute."""
    return dataclasses.replace(f.resource(tf_type, id, aws_managed=aws_managed, **kw), key=key)


def _boundary(detail: Mapping[str, Any]) -> str:
    return str(detail.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", ""))


# The three principal kinds share inline policies and attachments: (kind, tf attribute, detail fields).
_PRINCIPALS = (
    ("role", "RoleDetailList", "RoleName", "RolePolicyList"),
    ("user", "UserDetailList", "UserName", "UserPolicyList"),
    ("group", "GroupDetailList", "GroupName", "GroupPolicyList"),
)


def _principal_children(f: Fetch, details: dict[str, list[dict[str, Any]]]) -> Iterator[Resource]:
    """Inline policies (``role:name``) and attachments (``role/policy_arn``) of every role, user and group."""
    for kind, list_key, name_key, inline_key in _PRINCIPALS:
        for d in details[list_key]:
            principal, parn = d[name_key], d["Arn"]
            managed = kind == "role" and str(d.get("Path", "")).startswith(AWS_ROLE_PATHS)
            for p in d.get(inline_key, []):
                pname = p["PolicyName"]
                yield _child(f, f"aws_iam_{kind}_policy", f"{principal}:{pname}", f"{parn}/inline-policy/{pname}",
                             name=f"{principal}:{pname}", aws_managed=managed,
                             attributes={kind: principal, "name": pname, "policy": p["PolicyDocument"]})  # fmt: skip
            for a in d.get("AttachedManagedPolicies", []):
                arn = a["PolicyArn"]
                yield _child(f, f"aws_iam_{kind}_policy_attachment", f"{principal}/{arn}", f"{parn}/attached/{arn}",
                             name=f"{principal}/{a.get('PolicyName') or arn.rsplit('/', 1)[-1]}",
                             aws_managed=managed, attributes={kind: principal, "policy_arn": arn})  # fmt: skip


def _authorization(f: Fetch) -> Iterator[Resource]:
    iam = f.client("iam")
    details = authorization_details(f)
    listed = {r["RoleName"]: r for page in f.pages(iam, "list_roles") for r in page.get("Roles", [])}
    for r in details["RoleDetailList"]:
        name, extra = r["RoleName"], listed.get(r["RoleName"], {})
        tags = tags_from_list(r.get("Tags", []))
        attrs: dict[str, Json] = {
            "name": name, "path": r.get("Path", "/"), "unique_id": r.get("RoleId", ""),
            "create_date": _date(r.get("CreateDate")), "description": extra.get("Description", ""),
            "last_used": _date((r.get("RoleLastUsed") or {}).get("LastUsedDate")),
            "assume_role_policy": r.get("AssumeRolePolicyDocument", ""),
            "max_session_duration": int(extra.get("MaxSessionDuration", 3600)),
            "permissions_boundary": _boundary(r),
            "managed_policy_arns": sorted(a["PolicyArn"] for a in r.get("AttachedManagedPolicies", [])),
            "inline_policy": [{"name": p["PolicyName"], "policy": p["PolicyDocument"]}
                              for p in r.get("RolePolicyList", [])],
        }  # fmt: skip
        yield f.resource("aws_iam_role", name, arn=r["Arn"], attributes=attrs, tags=tags,
                         aws_managed=str(r.get("Path", "")).startswith(AWS_ROLE_PATHS))  # fmt: skip
    members: dict[str, list[str]] = {}
    for u in details["UserDetailList"]:
        name = u["UserName"]
        for g in u.get("GroupList", []):
            members.setdefault(g, []).append(name)
        attrs = {"name": name, "path": u.get("Path", "/"), "unique_id": u.get("UserId", ""),
                 "permissions_boundary": _boundary(u), "create_date": _date(u.get("CreateDate"))}  # fmt: skip
        yield f.resource("aws_iam_user", name, arn=u["Arn"], attributes=attrs, tags=tags_from_list(u.get("Tags", [])))
    for g in details["GroupDetailList"]:
        name = g["GroupName"]
        attrs = {"name": name, "path": g.get("Path", "/"), "unique_id": g.get("GroupId", "")}
        yield f.resource("aws_iam_group", name, arn=g["Arn"], attributes=attrs)
        if members.get(name):
            yield _child(f, "aws_iam_group_membership", name, f"{g['Arn']}/membership", name=name,
                         attributes={"group": name, "users": sorted(members[name])})  # fmt: skip
    for p in details["Policies"]:
        arn = p["Arn"]
        if arn.startswith(f"arn:{f.partition}:iam::aws:"):
            continue  # AWS managed: not a resource of this account
        tags = tags_from_list(
            [t for page in f.pages(iam, "list_policy_tags", PolicyArn=arn) for t in page.get("Tags", [])]
        )
        attrs = {"name": p["PolicyName"], "path": p.get("Path", "/"), "description": p.get("Description", ""),
                 "policy": default_document(p), "policy_id": p.get("PolicyId", ""),
                 "create_date": _date(p.get("CreateDate")), "update_date": _date(p.get("UpdateDate"))}  # fmt: skip
        yield f.resource("aws_iam_policy", arn, name=p["PolicyName"], arn=arn, attributes=attrs, tags=tags)
    yield from _aws_managed_attached(f)
    yield from _principal_children(f, details)


def _aws_managed_attached(f: Fetch) -> Iterator[Resource]:
    """The AWS managed policies attached to something in the account, with their default version document
    (what the effective-permissions analysis needs; AWS managed, so never unmanaged)."""
    iam = f.client("iam")
    for page in f.pages(iam, "list_policies", Scope="AWS", OnlyAttached=True):
        for p in page.get("Policies", []):
            arn, version = p["Arn"], p.get("DefaultVersionId", "v1")
            doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"].get("Document", "{}")
            attrs = {"name": p["PolicyName"], "path": p.get("Path", "/"), "policy": policy_json(doc),
                     "create_date": _date(p.get("CreateDate")), "update_date": _date(p.get("UpdateDate"))}  # fmt: skip
            yield f.resource("aws_iam_policy", arn, name=p["PolicyName"], arn=arn, attributes=attrs, aws_managed=True)


def _access_keys(f: Fetch) -> Iterator[Resource]:
    """Access key metadata (id, user, status, creation date): never a secret, which no read returns anyway."""
    iam = f.client("iam")
    for page in f.pages(iam, "list_users"):
        for u in page.get("Users", []):
            for kpage in f.pages(iam, "list_access_keys", UserName=u["UserName"]):
                for k in kpage.get("AccessKeyMetadata", []):
                    kid, user = k["AccessKeyId"], u["UserName"]
                    yield _child(f, "aws_iam_access_key", kid, f"{u['Arn']}/access-key/{kid}", name=user,
                                 attributes={"user": user, "status": k.get("Status", ""),
                                             "create_date": _date(k.get("CreateDate"))})  # fmt: skip


def _instance_profiles(f: Fetch) -> Iterator[Resource]:
    """Instance profiles; ``GetInstanceProfile`` per profile because the listing omits tags in AWS."""
    iam = f.client("iam")
    for page in f.pages(iam, "list_instance_profiles"):
        for listed in page.get("InstanceProfiles", []):
            name = listed["InstanceProfileName"]
            p = iam.get_instance_profile(InstanceProfileName=name).get("InstanceProfile", listed)
            attrs: dict[str, Json] = {"name": name, "path": p.get("Path", "/"),
                                      "unique_id": p.get("InstanceProfileId", ""),
                                      "create_date": _date(p.get("CreateDate"))}  # fmt: skip
            roles = [r["RoleName"] for r in p.get("Roles", [])]
            if roles:
                attrs["role"] = roles[0]  # an instance profile holds at most one role
            yield f.resource("aws_iam_instance_profile", name, arn=p.get("Arn"), attributes=attrs,
                             tags=tags_from_list(p.get("Tags", [])))  # fmt: skip


def _import_id(attr: str) -> Callable[[Mapping[str, Any]], str | None]:
    """An attachment's live id (``principal/policy_arn``, Terraform's import id) from a state's attributes."""

    def native(a: Mapping[str, Any]) -> str | None:
        principal, arn = a.get(attr), a.get("policy_arn")
        return f"{principal}/{arn}" if principal and arn else None

    return native


def _group_of(a: Mapping[str, Any]) -> str | None:
    return a.get("group") or None


register(
    Lister(
        name="iam.authorization",
        service="iam",
        global_=True,
        calls=("iam:GetAccountAuthorizationDetails", "iam:ListRoles", "iam:ListPolicyTags", "iam:ListPolicies",
               "iam:GetPolicyVersion"),
        types=(
            AwsType("aws_iam_role", "IAM roles (trust policy, session duration, boundary, tags)",
                    compared=("assume_role_policy", "max_session_duration", "permissions_boundary", "description",
                              "tags")),
            AwsType("aws_iam_user", "IAM users (path, permissions boundary, tags)",
                    compared=("path", "permissions_boundary", "tags")),
            AwsType("aws_iam_group", "IAM groups", compared=("path",)),
            AwsType("aws_iam_policy", "IAM customer managed policies (default version document, tags)",
                    compared=("policy", "tags")),
            AwsType("aws_iam_role_policy", "IAM role inline policies", compared=("policy",)),
            AwsType("aws_iam_user_policy", "IAM user inline policies", compared=("policy",)),
            AwsType("aws_iam_group_policy", "IAM group inline policies", compared=("policy",)),
            AwsType("aws_iam_role_policy_attachment", "IAM managed policies attached to roles",
                    compared=("policy_arn",), native_id=_import_id("role")),
            AwsType("aws_iam_user_policy_attachment", "IAM managed policies attached to users",
                    compared=("policy_arn",), native_id=_import_id("user")),
            AwsType("aws_iam_group_policy_attachment", "IAM managed policies attached to groups",
                    compared=("policy_arn",), native_id=_import_id("group")),
            AwsType("aws_iam_group_membership", "IAM group members (one per group, exclusive)",
                    compared=("users",), native_id=_group_of),
        ),
        fetch=_authorization,
        notes="one GetAccountAuthorizationDetails listing; ListPolicyTags per customer managed policy",
    )
)  # fmt: skip

register(
    Lister(
        name="iam.access_keys",
        service="iam",
        global_=True,
        calls=("iam:ListUsers", "iam:ListAccessKeys"),
        types=(AwsType("aws_iam_access_key", "IAM access keys (metadata only: user, status)", compared=("status",)),),
        fetch=_access_keys,
    )
)

register(
    Lister(
        name="iam.instance_profiles",
        service="iam",
        global_=True,
        calls=("iam:ListInstanceProfiles", "iam:GetInstanceProfile"),
        types=(AwsType("aws_iam_instance_profile", "IAM instance profiles (role, tags)", compared=("role", "tags")),),
        fetch=_instance_profiles,
    )
)
