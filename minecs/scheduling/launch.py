"""Launch types and capacity providers: what a RunTask or CreateService asks for, resolved to one launch.

Pure. ``resolve`` takes the request's ``launchType``, ``capacityProviderStrategy``,
``platformVersion`` and ``networkConfiguration``, the cluster's capacity providers and its default
strategy, and the task definition the task runs, and answers a ``Launch`` or raises ECS's error.
``provider_for`` picks the capacity provider of the next task of a strategy (``base`` first, then
``weight``). Every launch runs on the cluster's own (EXTERNAL) instances, placed as any task is:
the launch type decides the rules a task is held to and what it describes, not where it runs.

The decision a reader must know: the only capacity providers are ``FARGATE`` and ``FARGATE_SPOT``,
and both resolve to the Fargate rules (awsvpc, a task size from Fargate's table, platform version).
A cluster that names no capacity providers has both; one that names some has those. No launch type
and no strategy (and no cluster default) is EXTERNAL, where ECS would say EC2: every minecs
instance is an on-premises one. EC2 and FARGATE keep ECS's awsvpc rule (``networkConfiguration``
with subnets, and only for awsvpc); EXTERNAL keeps minecs's emulated awsvpc, which needs none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from minecs.errors import ClientError, InvalidParameterError, UnsupportedFeatureError
from minecs.model.codec import encode
from minecs.model.service import CapacityProviderStrategyItem, LaunchType
from minecs.model.taskdef import Compatibility, NetworkMode, TaskDefinition
from minecs.model.units import fargate_accepts

FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
PLATFORM_LATEST = "LATEST"
PLATFORM_VERSIONS = {"LATEST": "1.4.0", "1.4.0": "1.4.0"}
"""The Fargate Linux platform versions a task may ask for, and the one it then describes. ``LATEST``
is 1.4.0 since March 2021; 1.3.0 was retired in 2026, and earlier ones before it."""
PLATFORM_FAMILY = "Linux"
MAX_STRATEGY_ITEMS = 20
MAX_WEIGHT = 1000
MAX_BASE = 100_000
BOTH = (
    "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."
)
NOT_ASSOCIATED = (
    "The specified capacity provider strategy cannot contain a capacity provider that is not associated "
    "with the cluster. Associate the capacity provider with the cluster or specify a valid capacity "
    "provider and try again."
)
NO_NETWORK = "Network Configuration must be provided when networkMode 'awsvpc' is specified."
BAD_NETWORK = "Network Configuration is not valid for the given networkMode of this task definition."
NOT_FARGATE = "Task definition does not support launch_type FARGATE."


@dataclass(frozen=True)
class LaunchRequest:
    """The launch members of a RunTask or CreateService request, as given."""

    launch_type: str | None = None
    strategy: tuple[CapacityProviderStrategyItem, ...] = ()
    platform_version: str | None = None
    network: Mapping[str, Any] | None = None
    """``networkConfiguration`` as given."""


@dataclass(frozen=True)
class Launch:
    """How a task runs and describes itself: the launch type and, for Fargate, its platform."""

    launch_type: LaunchType = LaunchType.EXTERNAL
    strategy: tuple[CapacityProviderStrategyItem, ...] = ()
    """Non-empty when capacity providers chose the launch (``capacityProviderName`` on each task)."""
    platform_version: str | None = None
    """As asked (``LATEST`` unless given) for Fargate; None for the others."""
    network: Mapping[str, Any] | None = None
    """``networkConfiguration`` of an awsvpc task (required for EC2 and FARGATE, optional for EXTERNAL)."""

    @property
    def fargate(self) -> bool:
        return self.launch_type is LaunchType.FARGATE

    def task_members(self, provider: str | None, attachment_id: str) -> dict[str, Any]:
        """What a task of this launch describes beside its own members."""
        out: dict[str, Any] = {"launchType": self.launch_type.value}
        if provider is not None:
            out["capacityProviderName"] = provider
        if self.platform_version is not None:
            out["platformVersion"] = PLATFORM_VERSIONS[self.platform_version]
            out["platformFamily"] = PLATFORM_FAMILY
        subnets = _subnets(self.network)
        if subnets:
            # Emulated awsvpc: the task has its own network namespace, but no ENI exists, so the
            # attachment names only what the request said (its first subnet).
            out["attachments"] = [
                {
                    "id": attachment_id,
                    "type": "ElasticNetworkInterface",
                    "status": attachment_status("PROVISIONING"),
                    "details": [{"name": "subnetId", "value": subnets[0]}],
                }
            ]
        return out

    def service_members(self) -> dict[str, Any]:
        """What a service of this launch describes: the launch as asked."""
        out = self._shared()
        if self.platform_version is not None:
            out["platformVersion"] = self.platform_version
        return out

    def deployment_members(self) -> dict[str, Any]:
        """What a deployment describes: the platform version it resolved to."""
        out = self._shared()
        if self.platform_version is not None:
            out["platformVersion"] = PLATFORM_VERSIONS[self.platform_version]
        return out

    def _shared(self) -> dict[str, Any]:
        out: dict[str, Any] = (
            {"capacityProviderStrategy": [_item_json(i) for i in self.strategy]}
            if self.strategy
            else {"launchType": self.launch_type.value}
        )
        if self.platform_version is not None:
            out["platformFamily"] = PLATFORM_FAMILY
        if self.network is not None:
            out["networkConfiguration"] = dict(self.network)
        return out


def resolve(
    request: LaunchRequest,
    definition: TaskDefinition,
    *,
    associated: Sequence[str] = (),
    default_strategy: Sequence[CapacityProviderStrategyItem] = (),
) -> Launch:
    """The launch a request asks for, held to its launch type's rules; ECS's error when it breaks one.

    ``definition`` carries any task-level size override; ``associated`` and ``default_strategy`` are
    the cluster's ``capacityProviders`` and ``defaultCapacityProviderStrategy``."""
    check_request(request)
    strategy = request.strategy or (() if request.launch_type is not None else tuple(default_strategy))
    if strategy:
        check_strategy(strategy, associated)
        launch_type = LaunchType.FARGATE
    else:
        launch_type = _launch_type(request.launch_type)
    platform = _platform(launch_type, request.platform_version)
    if launch_type is LaunchType.FARGATE:
        _check_fargate(definition)
    network = _network(launch_type, definition, request.network)
    return Launch(launch_type, strategy, platform, network)


def resolve_in(cluster: Mapping[str, Any], request: LaunchRequest, definition: TaskDefinition) -> Launch:
    """``resolve`` with a stored cluster's capacity providers and default strategy."""
    return resolve(
        request,
        definition,
        associated=cluster.get("capacityProviders") or (),
        default_strategy=strategy_of(cluster.get("defaultCapacityProviderStrategy") or []),
    )


def check_request(request: LaunchRequest) -> None:
    """The rules a request breaks on its own, before any cluster or task definition is looked up."""
    if request.launch_type is not None and request.strategy:
        raise InvalidParameterError(BOTH)
    _launch_type(request.launch_type)


def check_strategy(strategy: Sequence[CapacityProviderStrategyItem], associated: Sequence[str]) -> None:
    """ECS's rules for a capacity provider strategy, with the providers a minecs cluster has."""
    if len(strategy) > MAX_STRATEGY_ITEMS:
        raise InvalidParameterError(
            f"capacityProviderStrategy: at most {MAX_STRATEGY_ITEMS} capacity providers are allowed."
        )
    names = [i.capacity_provider for i in strategy]
    available = [n for n in FARGATE_PROVIDERS if not associated or n in associated]
    for name in names:
        if name not in available:
            raise InvalidParameterError(
                f"{NOT_ASSOCIATED} (capacity provider '{name}'; this cluster has {', '.join(available) or 'none'}.)"
            )
    if len(set(names)) != len(names):
        raise InvalidParameterError("capacityProviderStrategy: each capacity provider may appear once.")
    for index, item in enumerate(strategy):
        if not 0 <= (item.weight or 0) <= MAX_WEIGHT:
            raise InvalidParameterError(
                f"capacityProviderStrategy[{index}].weight must be between 0 and {MAX_WEIGHT}."
            )
        if not 0 <= (item.base or 0) <= MAX_BASE:
            raise InvalidParameterError(
                f"capacityProviderStrategy[{index}].base must be between 0 and {MAX_BASE}."
            )
    if sum(bool(i.base) for i in strategy) > 1:
        raise InvalidParameterError(
            "capacityProviderStrategy: only one capacity provider in a strategy can have a base defined."
        )
    if len(strategy) > 1 and not any(i.weight for i in strategy):
        raise InvalidParameterError(
            "capacityProviderStrategy: at least one capacity provider must have a weight greater than zero."
        )


def provider_for(strategy: Sequence[CapacityProviderStrategyItem], placed: Mapping[str, int]) -> str:
    """The capacity provider of the next task, given how many each already has (``placed``).

    ECS's distribution: a provider's ``base`` tasks first, then the rest by ``weight`` (weight 0
    places nothing when another provider has weight). Ties go to the first listed."""
    for item in strategy:
        if placed.get(item.capacity_provider, 0) < (item.base or 0):
            return item.capacity_provider
    weighted = [i for i in strategy if i.weight] or list(strategy[:1])

    def load(item: CapacityProviderStrategyItem) -> float:
        beyond_base = placed.get(item.capacity_provider, 0) - (item.base or 0)
        return (beyond_base + 1) / (item.weight or 1)

    return min(weighted, key=load).capacity_provider


def attachment_status(last_status: str) -> str:
    """An emulated ENI's status through a task's life, as ECS shows a real one."""
    if last_status in ("PROVISIONING", "PENDING"):
        return "PRECREATED"
    if last_status in ("DEPROVISIONING", "STOPPED"):
        return "DELETED"
    return "ATTACHED"


def with_attachment_status(task: Mapping[str, Any]) -> dict[str, Any]:
    """``task`` with its attachments' status following its ``lastStatus``."""
    if not task.get("attachments"):
        return dict(task)
    status = attachment_status(task["lastStatus"])
    return {**task, "attachments": [{**a, "status": status} for a in task["attachments"]]}


def request_of(service: Mapping[str, Any]) -> LaunchRequest:
    """The launch a stored service asks for, for its tasks."""
    return LaunchRequest(
        launch_type=service.get("launchType"),
        strategy=tuple(strategy_of(service.get("capacityProviderStrategy") or [])),
        platform_version=service.get("platformVersion"),
        network=service.get("networkConfiguration"),
    )


def launch_type_of(service: Mapping[str, Any]) -> str:
    """The launch type a stored service's tasks describe (ListServices' filter): a strategy is Fargate's,
    and a service stored before minecs kept launch types is EXTERNAL."""
    if service.get("capacityProviderStrategy"):
        return LaunchType.FARGATE.value
    return str(service.get("launchType") or LaunchType.EXTERNAL.value)


def strategy_of(items: Sequence[Mapping[str, Any]]) -> list[CapacityProviderStrategyItem]:
    """A stored (encoded) capacity provider strategy, decoded."""
    return [
        CapacityProviderStrategyItem(str(i["capacityProvider"]), i.get("weight"), i.get("base"))
        for i in items
    ]


def _launch_type(value: str | None) -> LaunchType:
    if value is None:
        return LaunchType.EXTERNAL
    try:
        launch_type = LaunchType(value)
    except ValueError:
        raise InvalidParameterError(
            f"launchType must be one of {', '.join(t.value for t in LaunchType)}; got '{value}'."
        ) from None
    if launch_type is LaunchType.MANAGED_INSTANCES:
        raise UnsupportedFeatureError(
            "launchType MANAGED_INSTANCES needs an ECS Managed Instances capacity provider, which a minecs "
            "host does not have; use EXTERNAL, EC2 or FARGATE."
        )
    return launch_type


def _platform(launch_type: LaunchType, version: str | None) -> str | None:
    if launch_type is not LaunchType.FARGATE:
        if version is not None:
            raise InvalidParameterError(
                f"The platform version must be null when specifying an {launch_type.value} launch type."
            )
        return None
    version = version or PLATFORM_LATEST
    if version not in PLATFORM_VERSIONS:
        raise ClientError(
            f"The specified platform version doesn't exist. (platformVersion '{version}'; minecs runs "
            f"{', '.join(PLATFORM_VERSIONS)}.)",
            code="PlatformUnknownException",
        )
    return version


def _check_fargate(definition: TaskDefinition) -> None:
    if Compatibility.FARGATE not in definition.compatibilities:
        raise InvalidParameterError(NOT_FARGATE)
    cpu, memory = int(definition.cpu or 0), int(definition.memory or 0)
    if not fargate_accepts(cpu, memory):  # a task-level override left Fargate's table
        raise InvalidParameterError(
            f"overrides: No Fargate configuration exists for given values: {cpu} CPU, {memory} memory."
        )


def _network(
    launch_type: LaunchType, definition: TaskDefinition, network: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    awsvpc = definition.network_mode is NetworkMode.AWSVPC
    if launch_type is LaunchType.EXTERNAL:
        return network if awsvpc else None  # emulated awsvpc needs no subnets; kept when given
    if awsvpc and not _subnets(network):
        raise InvalidParameterError(NO_NETWORK)
    if not awsvpc and network is not None:
        raise InvalidParameterError(BAD_NETWORK)
    return network


def _subnets(network: Mapping[str, Any] | None) -> list[str]:
    awsvpc = (network or {}).get("awsvpcConfiguration")
    subnets = awsvpc.get("subnets") if isinstance(awsvpc, Mapping) else None
    return [s for s in subnets if isinstance(s, str)] if isinstance(subnets, list) else []


def _item_json(item: CapacityProviderStrategyItem) -> dict[str, Any]:
    """A strategy item as ECS echoes it: ``weight`` and ``base`` with their defaults (0)."""
    return {**encode(item), "weight": item.weight or 0, "base": item.base or 0}
