"""Task-level rules: family, cpu/memory (units, Fargate sizes), volumes and mount points, tags,
placement constraints, proxy configuration.

Choices where ECS documents no wording: the messages below are ours and name the member. Cloud-only
volume types (FSx, S3 Files, configuredAtLaunch) are refused with ``ClientException`` because a
minecs host has nothing that can serve them; the user sees which volume and what to use instead.
EFS volumes are accepted (their rules are in ``minecs.validation.efs``) and mapped to NFS at launch.
A task definition's placement constraints may only be ``memberOf`` (ECS's rule; a service's may
also be ``distinctInstance``): ``TASK_DEFINITION_ENUMS`` narrows the one constraint type's enum, so
the refusal comes with the structural problems, in ECS's enum wording.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from minecs.model.placement import PlacementConstraintType
from minecs.model.taskdef import Compatibility, NetworkMode, Scope, Tag, TaskDefinitionSpec, Volume
from minecs.model.units import fargate_accepts, parse_cpu, parse_memory
from minecs.validation.efs import check_efs
from minecs.validation.report import Report, check_expression, container_path

FAMILY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
VOLUME_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
TASK_CPU_RANGE = (128, 196608)
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_TASK_DEFINITION_BYTES = 64 * 1024
TASK_DEFINITION_ENUMS: Mapping[type[StrEnum], tuple[StrEnum, ...]] = {
    # ECS's TaskDefinitionPlacementConstraintType: a task definition may ask only for memberOf;
    # distinctInstance is a service's or RunTask's. The model has one constraint type for all three.
    PlacementConstraintType: (PlacementConstraintType.MEMBER_OF,),
}
"""Enums a task definition narrows, checked with the codec's structure (``parse_task_definition``)."""
CLOUD_ONLY_VOLUMES = (
    ("fsx_windows_file_server_volume_configuration", "fsxWindowsFileServerVolumeConfiguration"),
    ("s3files_volume_configuration", "s3filesVolumeConfiguration"),
)


def check_family(spec: TaskDefinitionSpec, report: Report) -> None:
    if not FAMILY_PATTERN.match(spec.family):
        report.add(
            "family",
            f"Invalid family '{spec.family}': up to 255 letters (uppercase and lowercase), numbers, "
            "underscores, and hyphens are allowed.",
        )


def task_size(spec: TaskDefinitionSpec, report: Report) -> tuple[int | None, int | None]:
    """Parse and check task-level cpu/memory; returns them as integers (None when absent or bad)."""
    cpu = _parse(spec.cpu, parse_cpu, "cpu", "CPU units, e.g. 1024 or '1 vCPU'", report)
    memory = _parse(spec.memory, parse_memory, "memory", "MiB, e.g. 2048 or '2 GB'", report)
    if cpu is not None and not TASK_CPU_RANGE[0] <= cpu <= TASK_CPU_RANGE[1]:
        report.add(
            "cpu",
            f"Invalid 'cpu' setting for task. Must be between {TASK_CPU_RANGE[0]} and {TASK_CPU_RANGE[1]} CPU units.",
        )
    if memory is not None and memory < 6:
        report.add("memory", "Invalid 'memory' setting for task. The minimum is 6 MiB.")
    if Compatibility.FARGATE in spec.requires_compatibilities:
        _check_fargate(spec, cpu, memory, report)
    _check_container_totals(spec, cpu, memory, report)
    return cpu, memory


def _parse(text: str | None, parser: object, member: str, hint: str, report: Report) -> int | None:
    if text is None:
        return None
    value = parser(text)  # type: ignore[operator]
    if value is None or value <= 0:
        report.add(member, f"Invalid '{member}' setting for task: '{text}'. Use {hint}.")
        return None
    return int(value)


def _check_fargate(spec: TaskDefinitionSpec, cpu: int | None, memory: int | None, report: Report) -> None:
    if spec.network_mode is not NetworkMode.AWSVPC:
        report.add("networkMode", "Fargate only supports network mode 'awsvpc'.")
    if spec.cpu is None or spec.memory is None:
        report.add("cpu" if spec.cpu is None else "memory", "Fargate requires task-level 'cpu' and 'memory'.")
    elif cpu is not None and memory is not None and not fargate_accepts(cpu, memory):
        report.add(
            "memory",
            f"No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. "
            "See the Amazon ECS documentation for the valid values.",
        )


def _check_container_totals(
    spec: TaskDefinitionSpec, cpu: int | None, memory: int | None, report: Report
) -> None:
    if memory is not None:
        for index, c in enumerate(spec.container_definitions):
            if c.memory is not None and c.memory > memory:
                report.add(
                    container_path(index, "memory"),
                    f"Invalid 'memory' setting for container '{c.name}'. It exceeds the task memory ({memory} MiB).",
                )
        reserved = sum(c.memory_reservation or c.memory or 0 for c in spec.container_definitions)
        if reserved > memory:
            report.add(
                "memory",
                f"The containers reserve {reserved} MiB in total, more than the task memory ({memory} MiB).",
            )
    if cpu is not None:
        total = sum(c.cpu for c in spec.container_definitions)
        if total > cpu:
            report.add(
                "cpu", f"The containers reserve {total} CPU units in total, more than the task cpu ({cpu})."
            )


def check_volumes(spec: TaskDefinitionSpec, report: Report) -> None:
    declared: set[str] = set()
    for index, volume in enumerate(spec.volumes):
        _check_volume(f"volumes[{index}]", volume, repeated=volume.name in declared, report=report)
        declared.add(volume.name or "")
    for index, c in enumerate(spec.container_definitions):
        for i, mount in enumerate(c.mount_points):
            path = container_path(index, f"mountPoints[{i}]")
            if not mount.source_volume or mount.source_volume not in declared:
                report.add(
                    f"{path}.sourceVolume",
                    f"Source volume '{mount.source_volume}' for container '{c.name}' is not declared in volumes.",
                )
            if not mount.container_path or not mount.container_path.startswith("/"):
                report.add(
                    f"{path}.containerPath",
                    f"Mount point of container '{c.name}' needs an absolute containerPath.",
                )


def _check_volume(path: str, v: Volume, *, repeated: bool, report: Report) -> None:
    if not v.name or not VOLUME_NAME_PATTERN.match(v.name):
        report.add(
            f"{path}.name",
            f"Invalid volume name '{v.name}': up to 255 letters, numbers, underscores, and hyphens are allowed.",
        )
    elif repeated:
        report.add(f"{path}.name", f"Volume name '{v.name}' is declared more than once.")
    for attr, member in CLOUD_ONLY_VOLUMES:
        if getattr(v, attr) is not None:
            report.add(
                f"{path}.{member}",
                f"Volume '{v.name}': {member} is not available on a minecs host. "
                "Use host.sourcePath or dockerVolumeConfiguration.",
            )
    if v.efs_volume_configuration is not None:
        check_efs(f"{path}.efsVolumeConfiguration", v.name, v.efs_volume_configuration, report)
    if v.configured_at_launch:
        report.add(
            f"{path}.configuredAtLaunch",
            f"Volume '{v.name}': configuredAtLaunch is not available on a minecs host.",
        )
    if v.host is not None and v.docker_volume_configuration is not None:
        report.add(path, f"Volume '{v.name}': set either host or dockerVolumeConfiguration, not both.")
    if v.host is not None and v.host.source_path is not None and not v.host.source_path.startswith("/"):
        report.add(f"{path}.host.sourcePath", f"Volume '{v.name}': host.sourcePath must be an absolute path.")
    docker = v.docker_volume_configuration
    if docker is not None and docker.autoprovision is not None and docker.scope is not Scope.SHARED:
        report.add(
            f"{path}.dockerVolumeConfiguration.autoprovision",
            f"Volume '{v.name}': autoprovision can only be set when scope is shared.",
        )


def check_document_size(data: Any, report: Report) -> None:
    """ECS's 64 KiB limit on a task definition, counted as its compact JSON in UTF-8, in ECS's words."""
    size = len(
        json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str).encode(
            "utf-8", "surrogatepass"
        )
    )
    if size > MAX_TASK_DEFINITION_BYTES:
        report.add("", f"Actual length: '{size}'. Max allowed length is '{MAX_TASK_DEFINITION_BYTES}' bytes.")


def check_tag_key(key: str | None, path: str, report: Report) -> None:
    if not key or len(key) > MAX_TAG_KEY:
        report.add(path, f"Tag keys must be 1 to {MAX_TAG_KEY} characters.")


def check_tags(tags: tuple[Tag, ...], report: Report) -> None:
    """ECS tag rules: at most 50, keys 1-128 characters and unique, no aws: prefix, values <= 256."""
    if len(tags) > MAX_TAGS:
        report.add("tags", f"A resource can have at most {MAX_TAGS} tags.")
    seen: set[str] = set()
    for i, tag in enumerate(tags):
        if not tag.key or len(tag.key) > MAX_TAG_KEY:
            check_tag_key(tag.key, f"tags[{i}].key", report)
        elif tag.key.lower().startswith("aws:"):
            report.add(f"tags[{i}].key", f"Tag key '{tag.key}' uses the reserved prefix aws:.")
        elif tag.key in seen:
            report.add(f"tags[{i}].key", f"Tag key '{tag.key}' is set more than once.")
        seen.add(tag.key or "")
        if tag.value is not None and len(tag.value) > MAX_TAG_VALUE:
            report.add(f"tags[{i}].value", f"Tag values must be at most {MAX_TAG_VALUE} characters.")


def tags_or_raise(tags: tuple[Tag, ...]) -> tuple[Tag, ...]:
    """``tags`` when they keep ECS's tag rules; otherwise a ValidationError with every problem."""
    report = Report()
    check_tags(tags, report)
    report.raise_if_any()
    return tags


def check_task_members(spec: TaskDefinitionSpec, report: Report) -> None:
    check_tags(spec.tags, report)
    for i, constraint in enumerate(spec.placement_constraints):
        if not constraint.expression:
            report.add(
                f"placementConstraints[{i}].expression",
                "A memberOf placement constraint needs an expression.",
            )
        else:
            check_expression(constraint.expression, f"placementConstraints[{i}].expression", report)
    # ECS's own check (aws-actions/amazon-ecs-deploy-task-definition#163 quotes it). Which
    # container containerName names is not checked: ECS does not refuse that here, and minecs
    # redirects no traffic through the proxy (docs/task-definition-support.md).
    proxy = spec.proxy_configuration
    for i, pair in enumerate(proxy.properties if proxy is not None else ()):
        if pair.value is None:
            report.add(
                f"proxyConfiguration.properties[{i}].value",
                "ProxyConfiguration properties value cannot be null.",
            )
