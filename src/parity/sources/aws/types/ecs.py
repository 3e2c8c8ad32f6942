"""ECS clusters, services and task definitions.

Clusters and services: ``ListClusters`` → ``DescribeClusters`` (100 at a time, with tags and settings);
per cluster ``ListServices`` → ``DescribeServices`` (10 at a time, with tags). Terraform's id for both
is the ARN. A service is a child of its cluster (``cluster`` holds the cluster's ARN).

Task definitions: Terraform's id for ``aws_ecs_task_definition`` is the *family*; its state holds one
revision (the one it registered, in ``arn`` and ``revision``). So parity lists the latest ACTIVE
revision of each ACTIVE family (``ListTaskDefinitionFamilies`` → ``DescribeTaskDefinition`` on the
family name, which answers with the latest ACTIVE revision): one resource per family, with the id
Terraform uses. Older ACTIVE revisions are deployment history, not separate objects anyone declares;
listing them would give many objects with one id. A service names the exact revision it runs in its
own ``task_definition``, so an older revision in use is still visible there.

``container_definitions`` is a JSON string as in Terraform's state (the API's camelCase container
list), with each ``environment`` sorted by name and every value replaced by a keyed hash. Image names
are kept whole (tag or digest): the promotion ledger follows them from stage to stage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register


def _tags(items: Any) -> dict[str, str]:
    return tags_from_list(items, key="key", value="value")


def _network(svc: dict[str, Any]) -> list[Json]:
    vpc = (svc.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not vpc:
        return []
    return [{"subnets": sorted(vpc.get("subnets", [])), "security_groups": sorted(vpc.get("securityGroups", [])),
             "assign_public_ip": vpc.get("assignPublicIp") == "ENABLED"}]  # fmt: skip


def _service(f: Fetch, svc: dict[str, Any]) -> Resource:
    attrs: dict[str, Json] = {
        "name": svc["serviceName"],
        "cluster": svc.get("clusterArn", ""),
        "task_definition": svc.get("taskDefinition", ""),
        "desired_count": int(svc.get("desiredCount", 0)),
        "launch_type": svc.get("launchType", ""),
        "scheduling_strategy": svc.get("schedulingStrategy", "REPLICA"),
        "platform_version": svc.get("platformVersion", ""),
        "network_configuration": _network(svc),
        "load_balancer": sorted(
            ({"target_group_arn": lb.get("targetGroupArn", ""), "elb_name": lb.get("loadBalancerName", ""),
              "container_name": lb.get("containerName", ""), "container_port": int(lb.get("containerPort") or 0)}
             for lb in svc.get("loadBalancers", [])),
            key=lambda lb: json.dumps(lb, sort_keys=True),
        ),
    }  # fmt: skip
    if svc.get("roleArn"):
        attrs["iam_role"] = svc["roleArn"]
    arn = svc["serviceArn"]
    return f.resource("aws_ecs_service", arn, name=svc["serviceName"], arn=arn, attributes=attrs,
                      tags=_tags(svc.get("tags", [])))  # fmt: skip


def _clusters(f: Fetch) -> Iterator[Resource]:
    ecs = f.client("ecs")
    arns = [a for page in f.pages(ecs, "list_clusters") for a in page.get("clusterArns", [])]
    for i in range(0, len(arns), 100):
        got = ecs.describe_clusters(clusters=arns[i : i + 100], include=["TAGS", "SETTINGS"])
        for c in got.get("clusters", []):
            if c.get("status") == "INACTIVE":
                continue  # deleted clusters stay describable for a while
            arn = c["clusterArn"]
            settings = sorted(({"name": s["name"], "value": s["value"]} for s in c.get("settings", [])),
                              key=lambda s: s["name"])  # fmt: skip
            yield f.resource("aws_ecs_cluster", arn, name=c["clusterName"], arn=arn,
                             attributes={"name": c["clusterName"], "setting": settings},
                             tags=_tags(c.get("tags", [])))  # fmt: skip
            services = [s for page in f.pages(ecs, "list_services", cluster=arn) for s in page.get("serviceArns", [])]
            for j in range(0, len(services), 10):
                described = ecs.describe_services(cluster=arn, services=services[j : j + 10], include=["TAGS"])
                for svc in described.get("services", []):
                    if svc.get("status") != "INACTIVE":
                        yield _service(f, svc)


def container_definitions(f: Fetch, containers: list[dict[str, Any]]) -> str:
    """The container list as Terraform keeps it (a JSON string), environment values hashed."""
    out = []
    for c in containers:
        c = dict(c)
        if "environment" in c:
            env = sorted(c["environment"] or [], key=lambda e: str(e.get("name", "")))
            c["environment"] = [{"name": e.get("name", ""), "value": f.redact(e.get("value", ""))} for e in env]
        out.append(c)
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


def _latest_active(f: Fetch, ecs: Any, family: str) -> str | None:
    arns = [
        a
        for page in f.pages(ecs, "list_task_definitions", familyPrefix=family, status="ACTIVE")
        for a in page.get("taskDefinitionArns", [])
        if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family
    ]
    return max(arns, key=lambda a: int(a.rsplit(":", 1)[1]), default=None)


def _task_definitions(f: Fetch) -> Iterator[Resource]:
    ecs = f.client("ecs")
    families = [
        fam
        for page in f.pages(ecs, "list_task_definition_families", status="ACTIVE")
        for fam in page.get("families", [])
    ]
    for family in families:
        got = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
        if got["taskDefinition"].get("status") == "INACTIVE":
            # Not AWS's answer for an ACTIVE family (it gives the latest ACTIVE revision), but cheap to get
            # right whoever answers: find the latest ACTIVE revision explicitly, or skip the family.
            latest = _latest_active(f, ecs, family)
            if latest is None:
                continue
            got = ecs.describe_task_definition(taskDefinition=latest, include=["TAGS"])
        td = got["taskDefinition"]
        arn = td["taskDefinitionArn"]
        attrs: dict[str, Json] = {
            "family": td["family"],
            "arn": arn,
            "revision": int(td.get("revision", 0)),
            "arn_without_revision": arn.rsplit(":", 1)[0],
            "container_definitions": container_definitions(f, td.get("containerDefinitions", [])),
            "cpu": str(td.get("cpu", "")),
            "memory": str(td.get("memory", "")),
            "network_mode": td.get("networkMode", ""),
            "requires_compatibilities": sorted(td.get("requiresCompatibilities", [])),
            "execution_role_arn": td.get("executionRoleArn", ""),
            "task_role_arn": td.get("taskRoleArn", ""),
        }
        # Terraform's id is the family; the key stays the revision-less ARN so mirrors pair across revisions.
        yield f.resource("aws_ecs_task_definition", td["family"], name=td["family"], arn=arn.rsplit(":", 1)[0],
                         attributes=attrs, tags=_tags(got.get("tags", [])))  # fmt: skip


register(
    Lister(
        name="ecs.clusters",
        service="ecs",
        calls=("ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListServices", "ecs:DescribeServices"),
        types=(
            AwsType("aws_ecs_cluster", "ECS clusters (settings, tags)", compared=("setting", "tags")),
            AwsType(
                "aws_ecs_service",
                "ECS services (task definition, desired count, launch type, network)",
                compared=(
                    "cluster",
                    "task_definition",
                    "desired_count",
                    "launch_type",
                    "network_configuration",
                    "tags",
                ),
                parent=("aws_ecs_cluster", "cluster"),
            ),
        ),
        fetch=_clusters,
    )
)

register(
    Lister(
        name="ecs.task_definitions",
        service="ecs",
        calls=("ecs:ListTaskDefinitionFamilies", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"),
        types=(
            AwsType(
                "aws_ecs_task_definition",
                "ECS task definitions, latest ACTIVE revision per family (containers, images; env values hashed)",
                compared=(
                    "container_definitions",
                    "cpu",
                    "memory",
                    "network_mode",
                    "requires_compatibilities",
                    "execution_role_arn",
                    "task_role_arn",
                    "tags",
                ),
                secret_paths=("container_definitions[].environment[].value",),
            ),
        ),
        fetch=_task_definitions,
        notes="Only the latest ACTIVE revision of each family: Terraform's id is the family.",
    )
)
