"""Every ECS answer, shaped by ECS's own service model: an allow-list, defaults, and the caller's region.

The handlers return what the service layer stores, which carries minecs's bookkeeping (a task's
report ``seq``, its reservation, an instance's ``lastSeen``, a service's last COMPLETED deployment)
and request members that are not response members (CreateService's ``role``). ``shaped`` walks the
answer along the operation's output shape in ``outputs.json`` (botocore's ECS model, trimmed by
``scripts/ecs-output-model``) and keeps only what the model has, so a member added to a stored
object can never leak to an ECS client, and nothing is hidden by a list that must be kept in step.

It also adds what ECS always returns and minecs may not have stored (``ALWAYS``): the collections
ECS answers empty rather than leave out (``volumes: []``, ``loadBalancers: []``), and the members
with a fixed or derived value (``deploymentController``, ``roleArn``, ``ec2InstanceId``). The
choices, member by member, are in ``ALWAYS``; the test (``tests/unit/minecs/test_ecs_shapes.py``)
checks every answer against botocore's full model and AWS's example responses.

Design decision: minecs is one world under one region (``MINECS_REGION``). ARNs are stored with
that region and rewritten here to the region of the caller's SigV4 credential scope, so a client in
``us-east-2`` sees ``arn:aws:ecs:us-east-2:...`` as it would on AWS; references are read by their
last path part, so an ARN of any region finds the same object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Caller:
    """Whom an answer is shaped for: the region ARNs carry, and the account behind the defaults."""

    region: str
    home_region: str
    account: str

    def arn(self, text: str) -> str:
        """``text`` with this controller's ECS ARN prefix moved to the caller's region."""
        if self.region != self.home_region and text.startswith(self.home_prefix):
            return self.caller_prefix + text[len(self.home_prefix) :]
        return text

    @property
    def home_prefix(self) -> str:
        return f"arn:aws:ecs:{self.home_region}:"

    @property
    def caller_prefix(self) -> str:
        return f"arn:aws:ecs:{self.region}:"

    @property
    def principal(self) -> str:
        """Who ``createdBy``/``registeredBy`` name: the admin credential is the account's root here."""
        return f"arn:aws:iam::{self.account}:root"


Default = Callable[[Mapping[str, Any], Caller], Any]
"""A member's value when the stored object has none: from the object as stored, and the caller."""


def _empty(_: Mapping[str, Any], __: Caller) -> list[Any]:
    return []


def _fixed(value: Any) -> Default:
    """A constant; a fresh copy each time, as answers are built per request."""
    text = json.dumps(value)
    if isinstance(value, list | dict):
        return lambda _, __: json.loads(text)
    return lambda _, __: value


def _service_role(service: Mapping[str, Any], caller: Caller) -> str:
    """The role given to CreateService (a name becomes its ARN), else ECS's service-linked role."""
    role = service.get("role")
    if not role:
        return f"arn:aws:iam::{caller.account}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    return str(role) if str(role).startswith("arn:") else f"arn:aws:iam::{caller.account}:role/{role}"


def _ec2_instance_id(instance: Mapping[str, Any], _: Caller) -> str:
    return f"mi-{str(instance.get('instanceId', ''))[:17]}"


ALWAYS: dict[str, dict[str, Default]] = {
    "Cluster": {
        "statistics": _empty,
        "settings": _empty,
        "capacityProviders": _empty,
        "defaultCapacityProviderStrategy": _empty,
    },
    "TaskDefinition": {
        "volumes": _empty,
        "requiresAttributes": _empty,
        "placementConstraints": _empty,
        "compatibilities": _fixed(["EC2", "EXTERNAL"]),
        "registeredBy": lambda _, caller: caller.principal,
    },
    "ContainerDefinition": {
        "cpu": _fixed(0),
        "portMappings": _empty,
        "essential": _fixed(True),
        "environment": _empty,
        "mountPoints": _empty,
        "volumesFrom": _empty,
        "systemControls": _empty,
    },
    "Service": {
        "loadBalancers": _empty,
        "serviceRegistries": _empty,
        "deployments": _empty,
        "events": _empty,
        "placementConstraints": _empty,
        "placementStrategy": _empty,
        "schedulingStrategy": _fixed("REPLICA"),
        "deploymentController": _fixed({"type": "ECS"}),
        "roleArn": _service_role,
        "createdBy": lambda _, caller: caller.principal,
        "enableECSManagedTags": _fixed(False),
        "propagateTags": _fixed("NONE"),
        "enableExecuteCommand": _fixed(False),
    },
    "Deployment": {"failedTasks": _fixed(0)},
    "DeploymentConfiguration": {"deploymentCircuitBreaker": _fixed({"enable": False, "rollback": False})},
    "Task": {
        "attachments": _empty,
        "attributes": _empty,
        "containers": _empty,
        "enableExecuteCommand": _fixed(False),
        # ECS counts a task's changes in ``version``; minecs has always answered 1 (the handlers
        # stripped the report ``seq`` before this default read it), and answers stay as they were.
        "version": _fixed(1),
    },
    "TaskOverride": {"containerOverrides": _empty, "inferenceAcceleratorOverrides": _empty},
    "Container": {"networkBindings": _empty, "networkInterfaces": _empty},
    "ContainerInstance": {
        "ec2InstanceId": _ec2_instance_id,
        "version": _fixed(1),
        "attributes": _empty,
        "attachments": _empty,
        "registeredResources": _empty,
        "remainingResources": _empty,
    },
}


def _load() -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    table = json.loads(resources.files(__package__).joinpath("outputs.json").read_text())
    return table["operations"], table["shapes"]


OUTPUTS, SHAPES = _load()


def shaped(operation: str, answer: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """``answer`` as ECS's model shapes ``operation``'s output, for ``caller``."""
    shape = OUTPUTS.get(operation)
    if shape is None:  # an operation with no output in the model answers {}
        return {}
    walk = _walker(shape, caller.region != caller.home_region, arns=False)
    out = walk(answer, caller) if walk is not None else answer
    return out if isinstance(out, dict) else {}


Walk = Callable[[Any, Caller], Any]
_WALKERS: dict[tuple[str, bool, bool], Walk | None] = {}
_ARN_MEMBERS = ("Arn", "Arns", "arn")
"""Members named so hold ECS ARNs, as do ``taskDefinition`` of a service and of a deployment."""


def _holds_arns(member: str) -> bool:
    return member.endswith(_ARN_MEMBERS) or member == "taskDefinition"


def _walker(name: str, rewrite: bool, *, arns: bool) -> Walk | None:
    """The function that shapes a value of model shape ``name``; None when the value stays as it is.

    Compiled once per shape rather than interpreted: a 100-task DescribeTasks is some 6,000 members,
    and a scalar (or a list of them) that needs no change must cost no call. ``rewrite`` says whether
    ARNs move to the caller's region, and ``arns`` whether the strings here are ARNs."""
    key = (name, rewrite, arns)
    if key not in _WALKERS:
        _WALKERS[key] = _make(name, rewrite, arns)
    return _WALKERS[key]


def _make(name: str, rewrite: bool, arns: bool) -> Walk | None:
    shape = SHAPES[name]
    kind = shape["type"]
    if kind == "structure":
        return _structure_walker(name, shape["members"], rewrite)
    if kind in ("list", "map"):
        inner = _walker(shape["member" if kind == "list" else "value"], rewrite, arns=arns)
        if inner is None:
            return None
        return _list_walker(inner) if kind == "list" else _map_walker(inner)
    return _string if kind == "string" and rewrite and arns else None


def _string(value: Any, caller: Caller) -> Any:
    return caller.arn(value) if isinstance(value, str) else value


def _list_walker(each: Walk) -> Walk:
    def walk(value: Any, caller: Caller) -> Any:
        return [each(v, caller) for v in value] if isinstance(value, list | tuple) else value

    return walk


def _map_walker(each: Walk) -> Walk:
    def walk(value: Any, caller: Caller) -> Any:
        return {k: each(v, caller) for k, v in value.items()} if isinstance(value, Mapping) else value

    return walk


def _structure_walker(name: str, members: Mapping[str, str], rewrite: bool) -> Walk:
    defaults = ALWAYS.get(name, {})
    plan: dict[str, Walk | None] = {}  # filled on first use: shapes may refer to each other

    def walk(value: Any, caller: Caller) -> Any:
        if not isinstance(value, Mapping):
            return value
        if not plan:
            plan.update({m: _walker(t, rewrite, arns=_holds_arns(m)) for m, t in members.items()})
        out = {}
        for member, item in value.items():
            if item is not None and member in plan:
                each = plan[member]
                out[member] = item if each is None else each(item, caller)
        for member, default in defaults.items():
            if member not in out:
                each = plan[member]
                item = default(value, caller)
                out[member] = item if each is None else each(item, caller)
        return out

    return walk
