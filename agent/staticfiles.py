"""Static task files: what ``minecs agent-static --tasks DIR`` reads, one task per file (as static pods).

A file is ``NAME.json``, ``NAME.yaml`` or ``NAME.yml`` holding one mapping::

    taskDefinition:        # required: a RegisterTaskDefinition body, as `minecs validate` takes it
      family: web
      containerDefinitions: [...]
    desiredStatus: RUNNING # optional: RUNNING (the default) or STOPPED
    startedBy: me          # optional, shown in the task's metadata
    group: static          # optional

``manifests/static/web.yaml`` is a runnable example. The task's ARN is
``arn:aws:ecs:local:000000000000:task/static/<id>``, where the id is a hash of the file's name and
its task definition: the same file keeps its task across agent restarts (its containers are
re-adopted), an edited definition is a new task and the old one stops, and a deleted file stops
its task, as the kubelet does with a static pod's manifest. The task definition is revision 1 of
its family. A file the agent cannot use is refused with every problem, each naming the file and
the member (``web.yaml: taskDefinition.containerDefinitions[0].memory: ...``), and the agent goes
on with the others.

The JSON form of ``minecs.model.wire`` (a file with a ``taskArn``) is still read as it is: the
agent's tests write it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from minecs.errors import FieldProblem, ValidationError
from minecs.model.registered import register, task_definition_arn
from minecs.model.task import DesiredStatus, StopCode, TaskAssignment
from minecs.model.wire import assignment_from_json
from minecs.validation import parse_task_definition

SUFFIXES = (".json", ".yaml", ".yml")
MEMBERS = ("taskDefinition", "desiredStatus", "startedBy", "group")
REGION, ACCOUNT, CLUSTER = "local", "000000000000", "static"
DELETED_REASON = "Task file removed"
"""The stopped reason of a task whose file was deleted (minecs's words; ECS has no static tasks)."""


def task_files(tasks_dir: Path) -> dict[Path, float]:
    """Every task file in ``tasks_dir`` and its modification time."""
    return {p: p.stat().st_mtime for p in sorted(tasks_dir.iterdir()) if p.suffix in SUFFIXES and p.is_file()}


def read_task_file(path: Path) -> TaskAssignment:
    """The file's task; ``ValidationError`` (each problem naming the file and member) when it is not one."""
    try:
        data = json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ValidationError([FieldProblem("", f"cannot read it: {exc}", source=path.name)]) from exc
    if isinstance(data, Mapping) and "taskArn" in data:
        try:
            return assignment_from_json(dict(data))
        except (KeyError, ValueError, TypeError) as exc:
            raise ValidationError(
                [FieldProblem("", f"not a task assignment: {exc!r}", source=path.name)]
            ) from exc
    return _assignment(path, data)


def _assignment(path: Path, data: Any) -> TaskAssignment:
    source = path.name
    if not isinstance(data, Mapping):
        raise ValidationError([FieldProblem("", "a task file holds one mapping", source=source)])
    problems = [
        FieldProblem(str(k), f'Unknown member "{k}", must be one of: {", ".join(MEMBERS)}', source=source)
        for k in data
        if k not in MEMBERS
    ]
    desired = data.get("desiredStatus", "RUNNING")
    if desired not in ("RUNNING", "STOPPED"):
        problems.append(
            FieldProblem("desiredStatus", "desiredStatus must be RUNNING or STOPPED", source=source)
        )
    body = data.get("taskDefinition")
    if not isinstance(body, Mapping):
        problems.append(FieldProblem("taskDefinition", "taskDefinition must be a mapping", source=source))
        raise ValidationError(problems)
    try:
        spec = parse_task_definition(dict(body), source)
    except ValidationError as exc:
        problems += [
            dataclasses.replace(p, path=f"taskDefinition.{p.path}".rstrip(".")) for p in exc.problems
        ]
    if problems:
        raise ValidationError(problems)
    digest = hashlib.sha256(f"{path.stem}\n{json.dumps(body, sort_keys=True)}".encode()).hexdigest()[:32]
    definition = register(
        spec,
        arn=task_definition_arn(REGION, ACCOUNT, spec.family, 1),
        revision=1,
        registered_at=datetime.fromtimestamp(0, UTC),
    )
    return TaskAssignment(
        task_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{digest}",
        cluster=CLUSTER,
        definition=definition,
        desired_status=DesiredStatus(desired),
        started_by=_text(data.get("startedBy")),
        group=_text(data.get("group")),
    )


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def stopped(assignment: TaskAssignment, reason: str = DELETED_REASON) -> TaskAssignment:
    """The assignment told to stop: its file is gone, or holds another task now."""
    return dataclasses.replace(
        assignment,
        desired_status=DesiredStatus.STOPPED,
        stop_code=StopCode.USER_INITIATED,
        stopped_reason=reason,
    )
