"""``RunnerHost``: what a task runner may use of the engine that hosts it.

The runner drives one task; the engine owns what all tasks share (the driver, the port table, the
image manager, the state file, the report stream). The runner sees the engine only through this
Protocol, so ``runner.py`` never imports ``engine.py`` and the engine can be replaced by a small fake
in a test. ``Engine`` satisfies it (mypy checks so where the engine hands itself to a runner).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from agent.provision.ports import PortTable
from agent.provision.resources import InstanceFacts
from agent.provision.secrets import SecretResolver
from agent.runtime.base import Driver
from minecs.model.task import TaskSnapshot
from minecs.settings import ProvisionSettings


class RunnerTimings(Protocol):
    """The engine settings a runner reads."""

    @property
    def resync_interval(self) -> float: ...
    @property
    def dependency_wait_timeout(self) -> float: ...
    @property
    def cleanup_wait(self) -> float: ...


class Images(Protocol):
    """Makes images present (``agent.tasks.engine.ImageManager``)."""

    async def ensure(self, image: str) -> None: ...
    def forget(self, image: str) -> bool: ...


class EngineObserver(Protocol):
    """What the engine tells the agent's metrics (``agent.insights.server.AgentHealth``)."""

    def event_handled(self, lag_seconds: float) -> None:
        """A Docker event reached its task, ``lag_seconds`` after Docker stamped it."""
        ...

    def reconciled(self, seconds: float) -> None:
        """One reconcile pass of a task took ``seconds``."""
        ...


class RunnerHost(Protocol):
    @property
    def driver(self) -> Driver: ...
    @property
    def ports(self) -> PortTable: ...
    @property
    def secrets(self) -> SecretResolver | None: ...
    @property
    def images(self) -> Images: ...
    @property
    def settings(self) -> RunnerTimings: ...
    @property
    def provision_settings(self) -> ProvisionSettings: ...
    @property
    def facts(self) -> InstanceFacts: ...
    @property
    def observer(self) -> EngineObserver: ...

    def now(self) -> datetime:
        """The engine's clock (a test's fixed one)."""
        ...

    async def persist(self, *, fresh: bool = False) -> None:
        """Write the state file and wait until it is on disk."""
        ...

    def publish(self, snapshot: TaskSnapshot) -> None:
        """A new state of the task, for the engine's history and subscribers."""
        ...
