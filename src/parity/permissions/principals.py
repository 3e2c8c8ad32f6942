"""AWS principals from an environment's IAM resources (live when it has them, else its Terraform code).

The resources are the ones the ``aws`` source lists (and Terraform states declare, in the same shapes):
``aws_iam_user`` / ``_role`` / ``_group``, inline policies ``aws_iam_<kind>_policy``, attachments
``aws_iam_<kind>_policy_attachment``, ``aws_iam_group_membership``, managed policies ``aws_iam_policy``
(customer managed, and the AWS managed ones attached in the account), SCPs ``aws_organizations_policy``
(with the level of the organisation tree they apply at). A user inherits its groups' policies; an
attached policy whose document was not read becomes one literal pseudo-action ``<policy ARN>`` so a
difference in attachments still shows.

A document that was read but cannot be parsed (not JSON, the wrong shape, statements IAM would reject:
:func:`parity.permissions.policy.read_statements`) never silently grants nothing: its readable statements
count, the policy gets one literal pseudo-action ``<unreadable NAME>`` (so it shows in the principal's view
and a difference with a mirror whose copy reads shows), and the principal carries a note saying what could
not be read (likewise for an unreadable boundary, SCP or trust policy).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from parity.model import Json, Resource
from parity.permissions.catalogue import Catalogue
from parity.permissions.model import ANY, Policy, Principal, PrincipalKind, Source, Statement
from parity.permissions.policy import Sub, read_document, read_statements
from parity.registry import type_info

AWS_ROLE_PATHS = ("/aws-service-role/", "/aws-reserved/")
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
KINDS = ("user", "role", "group")


@dataclass
class _Index:
    principals: dict[str, dict[str, Resource]] = field(default_factory=lambda: {k: {} for k in KINDS})
    inline: dict[tuple[str, str], dict[str, tuple[Json, Resource | None]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    attached: dict[tuple[str, str], dict[str, Resource | None]] = field(default_factory=lambda: defaultdict(dict))
    members: dict[str, list[tuple[str, Resource]]] = field(default_factory=lambda: defaultdict(list))
    policies: dict[str, Resource] = field(default_factory=dict)
    scps: list[Resource] = field(default_factory=list)


def _index(resources: Iterable[Resource]) -> _Index:
    ix = _Index()
    for r in resources:
        t, a = r.type, r.attributes
        if t in ("aws_iam_user", "aws_iam_role", "aws_iam_group"):
            kind = t.rsplit("_", 1)[1]
            ix.principals[kind][str(a.get("name") or r.id)] = r
            if kind == "role":  # Terraform's inline blocks on the role itself
                for p in a.get("inline_policy") or []:
                    if isinstance(p, Mapping) and p.get("name"):
                        ix.inline[(kind, str(a.get("name") or r.id))].setdefault(
                            str(p["name"]), (p.get("policy"), None)
                        )
                for arn in a.get("managed_policy_arns") or []:
                    ix.attached[(kind, str(a.get("name") or r.id))].setdefault(str(arn), None)
        elif t in ("aws_iam_user_policy", "aws_iam_role_policy", "aws_iam_group_policy"):
            kind = t.split("_")[2]
            owner, _, pname = r.id.partition(":")
            ix.inline[(kind, str(a.get(kind) or owner))][str(a.get("name") or pname)] = (a.get("policy"), r)
        elif t in ("aws_iam_user_policy_attachment", "aws_iam_role_policy_attachment",
                   "aws_iam_group_policy_attachment"):  # fmt: skip
            kind = t.split("_")[2]
            if a.get(kind) and a.get("policy_arn"):
                ix.attached[(kind, str(a[kind]))][str(a["policy_arn"])] = r
        elif t == "aws_iam_group_membership":
            for u in a.get("users") or []:
                ix.members[str(u)].append((str(a.get("group") or r.id), r))
        elif t == "aws_iam_user_group_membership":
            for g in a.get("groups") or []:
                ix.members[str(a.get("user"))].append((str(g), r))
        elif t == "aws_iam_policy":
            ix.policies[str(a.get("arn") or r.id)] = r
        elif t == "aws_organizations_policy" and a.get("type", "SERVICE_CONTROL_POLICY") == "SERVICE_CONTROL_POLICY":
            ix.scps.append(r)
    return ix


def _trust_humans(doc: Json) -> str:
    """Why a role's trust policy lets people in ("" when only services/machines can assume it)."""
    body = read_document(doc)[0].get("Statement", [])
    for st in [body] if isinstance(body, Mapping) else body if isinstance(body, list) else []:
        if not isinstance(st, Mapping) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        if principal == "*":
            return "assumable by any principal"
        if not isinstance(principal, Mapping):
            continue
        for kind, values in principal.items():
            vals = [values] if isinstance(values, str) else values if isinstance(values, list) else []
            for v in vals:
                v = str(v)
                if kind == "Federated" and "saml-provider" in v:
                    return f"assumable through SAML ({v})"
                if kind == "AWS" and v == "*":  # the same as "Principal": "*" (canonical form)
                    return "assumable by any principal"
                if kind == "AWS" and (v.endswith(":root") or ":user/" in v or v.isdigit()):
                    return f"assumable by IAM users ({v})"
    return ""


def _trust_unread(doc: Json) -> str:
    """Why a role's trust policy present in ``doc`` cannot be read ("" when it can, or there is none)."""
    if doc is None:
        return ""
    body, why = read_document(doc)
    raw = body.get("Statement")
    if not why and raw is not None and not isinstance(raw, Mapping | list):
        why = "Statement is not an object or a list"
    return why


def _same(s: str) -> str:
    return s


MAX_SHOWN_PROBLEMS = 3


def summary(problems: tuple[str, ...]) -> str:
    """The problems of one document, in one line (the first few)."""
    more = len(problems) - MAX_SHOWN_PROBLEMS
    return "; ".join(problems[:MAX_SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")


class PrincipalBuilder:
    """Turns one environment's IAM resources into :class:`Principal` objects (documents parsed once)."""

    def __init__(self, catalogue: Catalogue, sub: Sub) -> None:
        self.catalogue = catalogue
        self.sub = sub
        self._parsed: dict[tuple[str, str, int], tuple[tuple[Statement, ...], tuple[str, ...]]] = {}

    def read(self, doc: Json, name: str, via: str = "") -> tuple[tuple[Statement, ...], tuple[str, ...]]:
        """(the statements of ``doc``, why some or all of it could not be read), parsed once."""
        key = (name, via, id(doc))
        got = self._parsed.get(key)
        if got is None:
            # AWS managed documents are the same in every account: no placeholders (their "/prod/" is AWS's)
            sub = _same if ":iam::aws:policy/" in name else self.sub
            got = read_statements(doc, name, self.catalogue, sub, via)
            self._parsed[key] = got
        return got

    def parse(self, doc: Json, name: str, via: str = "") -> tuple[Statement, ...]:
        return self.read(doc, name, via)[0]

    def _policy(self, doc: Json, name: str, via: str, grant: Resource | None, kind: str, created: str = "") -> Policy:
        """A policy from its document: what cannot be read is named in ``unread`` and stands in as one
        literal pseudo-action (see the module docstring)."""
        stmts, problems = self.read(doc, name, via)
        why = summary(problems)
        if why:
            stmts = (*stmts, Statement("Allow", frozenset({f"<unreadable {self.sub(name)}>"}), (), False, (ANY,),
                                       (), Source(name, f"not read: {why}", via)))  # fmt: skip
        return Policy(name, stmts, via, grant.id if grant else "", grant.type if grant else kind, created, why)

    def _managed(self, ix: _Index, arn: str, via: str, grant: Resource | None, kind: str) -> Policy:
        pol = ix.policies.get(arn)
        if pol is not None:
            created = str(pol.attributes.get("update_date") or pol.attributes.get("create_date") or "")
            return self._policy(pol.attributes.get("policy"), arn, via, grant, kind, created)
        # not read: a literal stand-in, so a different attachment still differs
        stmts = (Statement("Allow", frozenset({f"<policy {self.sub(arn)}>"}), (), False,
                           (ANY,), (), Source(arn, "document not read", via)),)  # fmt: skip
        return Policy(arn, stmts, via, grant.id if grant else "", grant.type if grant else kind)

    def _own(self, ix: _Index, kind: str, name: str, via: str = "") -> list[Policy]:
        out: list[Policy] = []
        for pname, (doc, res) in sorted(ix.inline.get((kind, name), {}).items()):
            label = f"inline:{pname}" if not via else f"inline:{name}:{pname}"
            out.append(self._policy(doc, label, via, res, f"aws_iam_{kind}"))
        for arn, res in sorted(ix.attached.get((kind, name), {}).items()):
            out.append(self._managed(ix, arn, via, res, f"aws_iam_{kind}"))
        return out

    def _boundary(self, ix: _Index, arn: Json) -> tuple[tuple[Statement, ...] | None, str]:
        """(the boundary's statements, or None when it has none or its document is unknown; why it could
        not be read)."""
        if not isinstance(arn, str) or not arn:
            return None, ""
        pol = ix.policies.get(arn)
        if pol is None:
            return None, ""  # unknown boundary document: not applied (documented as a limitation)
        stmts, problems = self.read(pol.attributes.get("policy"), f"boundary:{arn}")
        return stmts, summary(problems)

    def _scps(self, ix: _Index) -> tuple[tuple[tuple[Statement, ...], ...], tuple[str, ...]]:
        """(the SCP levels, what could not be read of them)."""
        levels: dict[int, list[Statement]] = defaultdict(list)
        unread: list[str] = []
        for r in ix.scps:
            # ``levels``: every level of the account's path the policy is attached at (the aws lister);
            # ``level``: one level (older scans, hand-written inventories); neither: the root
            at = r.attributes.get("levels")
            where = [int(x) for x in at if isinstance(x, int | str)] if isinstance(at, list) else []
            name = f"scp:{r.attributes.get('name') or r.id}"
            stmts, problems = self.read(r.attributes.get("content"), name)
            if problems:
                unread.append(f"{name} could not be read ({summary(problems)})")
            for level in where or [int(r.attributes.get("level", 0) or 0)]:
                levels[level] += stmts
        return tuple(tuple(levels[k]) for k in sorted(levels)), tuple(unread)

    def build(self, environment: str, resources: Iterable[Resource]) -> list[Principal]:
        ix = _index(resources)
        scps, scps_unread = self._scps(ix)
        out: list[Principal] = []
        for kind in KINDS:
            for name, r in sorted(ix.principals[kind].items()):
                a = r.attributes
                path = str(a.get("path") or "/")
                policies = self._own(ix, kind, name)
                human, why = False, ""
                if kind == "user":
                    human, why = True, "an IAM user"
                    for group, membership in sorted(ix.members.get(name, []), key=lambda x: x[0]):
                        for p in self._own(ix, "group", group, via=f"group:{group}"):
                            if not p.resource_id:  # the membership is what grants a role-level block
                                p = dataclasses.replace(p, resource_id=membership.id, resource_type=membership.type)
                            policies.append(p)
                        policies.append(Policy(f"membership:{group}", (), f"group:{group}",
                                               membership.id, membership.type))  # fmt: skip
                elif kind == "role":
                    why = "an IAM Identity Center (SSO) role" if path.startswith(SSO_PATH) else _trust_humans(
                        a.get("assume_role_policy"))  # fmt: skip
                    human = bool(why)
                service_linked = kind == "role" and path.startswith("/aws-service-role/")
                boundary, boundary_unread = (self._boundary(ix, a.get("permissions_boundary")) if kind != "group"
                                             else (None, ""))  # fmt: skip
                own_scps = () if service_linked or kind == "group" else scps
                unread = [f"{p.name}{f' via {p.via}' if p.via else ''} could not be read ({p.unread})"
                          for p in policies if p.unread]  # fmt: skip
                if boundary_unread:
                    unread.append(f"permissions boundary {a.get('permissions_boundary')} could not be read "
                                  f"({boundary_unread})")  # fmt: skip
                if own_scps:
                    unread += scps_unread
                notes = [f"{kind} {name} in {environment}: {u}: effective permissions are incomplete" for u in unread]
                trust = _trust_unread(a.get("assume_role_policy")) if kind == "role" else ""
                if trust:
                    notes.append(f"role {name} in {environment}: trust policy could not be read ({trust}): "
                                 "whether people can assume it is unknown")  # fmt: skip
                out.append(Principal(
                    kind=cast(PrincipalKind, kind), name=name, id=r.id, key=r.key, environment=environment,
                    policies=tuple(policies), boundary=boundary, scps=own_scps, human=human, human_reason=why,
                    created=str(a.get("create_date") or ""), last_used=str(a.get("last_used") or ""),
                    resource_type=r.type, notes=tuple(notes),
                ))  # fmt: skip
        return out


def declared_grants(resources: Iterable[Resource]) -> set[tuple[str, str]]:
    """(type, live id) of every IAM grant a declaration (Terraform) defines: inline policies, attachments,
    memberships (``aws_iam_group_membership``: the group; ``aws_iam_user_group_membership``: its id),
    and a role's own ``inline_policy`` / ``managed_policy_arns`` blocks."""
    out: set[tuple[str, str]] = set()
    for r in resources:
        info = type_info(r.type)
        native = info.native_id(r.attributes) if info is not None and info.native_id is not None else None
        out.add((r.type, native or r.id))
        if r.type == "aws_iam_role":
            name = str(r.attributes.get("name") or r.id)
            for p in r.attributes.get("inline_policy") or []:
                if isinstance(p, Mapping) and p.get("name"):
                    out.add(("aws_iam_role_policy", f"{name}:{p['name']}"))
            for arn in r.attributes.get("managed_policy_arns") or []:
                out.add(("aws_iam_role_policy_attachment", f"{name}/{arn}"))
        if r.type == "aws_iam_user_group_membership":
            for g in r.attributes.get("groups") or []:
                out.add(("aws_iam_group_membership", str(g)))
    return out
