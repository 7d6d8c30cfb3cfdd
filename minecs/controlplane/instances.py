"""Container instances: registration with a token or a saved credential, heartbeats, ECS shapes.

An agent registers once with a registration token and gets back its instance id and credential;
after a restart it registers again *with the credential* and keeps the same container instance (as
an ECS agent re-registers with its saved ARN). ``agentConnected`` is derived, never stored: an
instance is connected while its last contact is within ``agent_timeout`` of now. Disconnection
changes nothing else (edge autonomy); its tasks are left as they are.

Resources are ECS's shape: ``registeredResources`` / ``remainingResources`` as
``[{name: CPU, type: INTEGER, integerValue}, {name: MEMORY, ...}, {name: PORTS, type: STRINGSET,
stringSetValue}]``; remaining = registered minus what the instance's non-STOPPED tasks reserve.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from minecs.controlplane.auth import InstanceCredentials, RegistrationTokens
from minecs.controlplane.taskdefs import Identity
from minecs.errors import InvalidParameterError, NotFoundError, UnauthenticatedError
from minecs.store import Store, retry_update

KIND = "instance"


@dataclass(frozen=True)
class Registration:
    cluster: str
    cpu: int
    memory: int
    reserved_ports: tuple[int, ...] = ()
    agent_version: str = ""
    docker_version: str = ""
    attributes: Mapping[str, str] | None = None
    ec2_instance_id: str | None = None
    """The EC2 (or ``mi-``) instance id an instance identity document names; else one is made up."""


@dataclass(frozen=True)
class Registered:
    instance: Mapping[str, Any]
    credential: str | None


def instance_arn(identity: Identity, cluster: str, instance_id: str) -> str:
    return f"arn:aws:ecs:{identity.region}:{identity.account}:container-instance/{cluster}/{instance_id}"


def resources(cpu: int, memory: int, ports: Sequence[int]) -> list[dict[str, Any]]:
    return [
        {"name": "CPU", "type": "INTEGER", "integerValue": cpu},
        {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
        {"name": "PORTS", "type": "STRINGSET", "stringSetValue": [str(p) for p in ports]},
    ]


def resource(body: Mapping[str, Any], name: str, which: str = "registeredResources") -> int:
    return int(next(r["integerValue"] for r in body[which] if r["name"] == name))


class Instances:
    def __init__(
        self,
        store: Store,
        identity: Identity,
        *,
        agent_timeout: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.identity = identity
        self.tokens = RegistrationTokens(store)
        self.credentials = InstanceCredentials(store)
        self.agent_timeout = agent_timeout
        self.clock = clock

    async def register(
        self,
        registration: Registration,
        *,
        token: str | None = None,
        instance_id: str | None = None,
        secret: str | None = None,
    ) -> Registered:
        now = self.clock()
        if instance_id and secret:
            await self.credentials.verify(instance_id, secret)
            stored = await retry_update(
                self.store, KIND, instance_id, lambda body: self._refresh(body, registration, now)
            )
            return Registered(self.shape(stored.body), None)
        if not token:
            raise UnauthenticatedError(
                "Registration needs a registration token or the instance's credential."
            )
        await self.tokens.consume(token, now=now)
        new_id = secrets.token_hex(16)
        body = self._refresh(
            {
                "instanceId": new_id,
                "containerInstanceArn": instance_arn(self.identity, registration.cluster, new_id),
                "ec2InstanceId": registration.ec2_instance_id or f"mi-{new_id[:17]}",
                "status": "ACTIVE",
                "registeredAt": now.timestamp(),
            },
            registration,
            now,
        )
        await self.store.create(KIND, new_id, body, cluster=registration.cluster)
        credential = await self.credentials.issue(new_id)
        return Registered(self.shape(body), credential)

    def _refresh(self, body: Mapping[str, Any], r: Registration, now: datetime) -> dict[str, Any]:
        return {
            **body,
            "clusterName": r.cluster,
            "registeredResources": resources(r.cpu, r.memory, r.reserved_ports),
            "versionInfo": {"agentVersion": r.agent_version, "dockerVersion": r.docker_version},
            "attributes": [
                {"name": k, "value": v} if v else {"name": k} for k, v in sorted((r.attributes or {}).items())
            ],
            "lastSeen": now.timestamp(),
        }

    async def touch(self, instance_id: str) -> None:
        now = self.clock().timestamp()
        await retry_update(self.store, KIND, instance_id, lambda body: {**body, "lastSeen": now})

    def connected(self, body: Mapping[str, Any]) -> bool:
        return self.clock().timestamp() - float(body.get("lastSeen", 0)) <= self.agent_timeout.total_seconds()

    def shape(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The instance as ECS shows it, with ``agentConnected`` derived from the last contact."""
        return {**body, "agentConnected": self.connected(body)}

    async def get(self, instance_id: str) -> dict[str, Any]:
        stored = await self.store.get(KIND, instance_id)
        if stored is None:
            raise NotFoundError(f"Container instance {instance_id} not found.", code="ClientException")
        return self.shape(stored.body)

    async def in_cluster(self, cluster: str) -> list[dict[str, Any]]:
        return [self.shape(s.body) for s in await self.store.find(KIND, cluster=cluster)]

    async def set_status(self, instance_id: str, status: str) -> dict[str, Any]:
        """UpdateContainerInstancesState: ACTIVE or DRAINING (service tasks then move elsewhere)."""
        if status not in ("ACTIVE", "DRAINING"):
            raise InvalidParameterError("status must be ACTIVE or DRAINING.")
        current = await self.get(instance_id)
        if current["status"] == "INACTIVE":
            raise InvalidParameterError("The container instance is not registered (INACTIVE).")
        stored = await retry_update(self.store, KIND, instance_id, lambda body: {**body, "status": status})
        return self.shape(stored.body)

    async def deregister(self, instance_id: str, *, running_tasks: int, force: bool) -> dict[str, Any]:
        """DeregisterContainerInstance: INACTIVE; refused while tasks run unless ``force``.

        Choice: its agent may still report (its tasks keep running, as in ECS, until stopped), but
        nothing new is placed there and service tasks on it are replaced elsewhere."""
        await self.get(instance_id)
        if running_tasks and not force:
            raise InvalidParameterError(
                "Container instance has tasks running; stop them or deregister with force."
            )
        stored = await retry_update(
            self.store, KIND, instance_id, lambda body: {**body, "status": "INACTIVE"}
        )
        return self.shape(stored.body)
