"""ECS rules for task definitions, as pure functions: JSON in, a normalised spec or every problem out.

``parse_task_definition`` is the one entry point the CLI, the native API and the ECS front end call:

1. structure (``minecs.model.codec``): unknown members, missing required members, wrong types, enum
   values (narrowed to what a task definition allows, ``TASK_DEFINITION_ENUMS``). If anything is
   wrong here we stop, because the values are stand-ins;
2. rules (``containers``, ``graph``, ``network``, ``task``): every ECS rule, all run, all reported;
3. normalisation: task cpu/memory strings become integers (``"1 vCPU"`` -> ``"1024"``), as ECS does
   at registration.

A bad document raises ``ValidationError`` whose ``problems`` carry the ECS code
(``ClientException`` or ``InvalidParameterException``), the member path and the document source.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from minecs.errors import ValidationError
from minecs.model.taskdef import TaskDefinitionSpec
from minecs.validation.containers import check_containers
from minecs.validation.graph import check_cycles, check_references
from minecs.validation.network import check_network
from minecs.validation.report import Report, decode_keeping_unknown
from minecs.validation.task import (
    TASK_DEFINITION_ENUMS,
    check_document_size,
    check_family,
    check_task_members,
    check_volumes,
    task_size,
)


def parse_task_definition(data: Any, source: str = "") -> TaskDefinitionSpec:
    """Decode, validate and normalise a ``RegisterTaskDefinition`` body (at most 64 KiB, as in ECS)."""
    report = Report(source)
    check_document_size(data, report)
    report.raise_if_any()
    spec, unknown = decode_keeping_unknown(TaskDefinitionSpec, data, source, TASK_DEFINITION_ENUMS)
    try:
        checked = check_task_definition(spec, source)
    except ValidationError as exc:
        raise ValidationError([*unknown, *exc.problems]) from None
    if unknown:
        raise ValidationError(unknown)
    return checked


def check_task_definition(spec: TaskDefinitionSpec, source: str = "") -> TaskDefinitionSpec:
    """Run every rule on a decoded spec; return it normalised, or raise with all problems."""
    report = Report(source)
    check_family(spec, report)
    check_containers(spec, report)
    check_references(spec, report)
    check_cycles(spec, report)
    check_network(spec, report)
    check_volumes(spec, report)
    check_task_members(spec, report)
    cpu, memory = task_size(spec, report)
    report.raise_if_any()
    return dataclasses.replace(
        spec,
        cpu=str(cpu) if cpu is not None else None,
        memory=str(memory) if memory is not None else None,
    )
