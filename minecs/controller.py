"""The controller daemon: the store, the HTTP front ends and the reconcile loop, in one event loop.

aiohttp is embedded with ``minecs.api.serving.Serving`` (an ``AppRunner(handle_signals=False)``
whose own parse-error answers are JSON) so that ``minecs.aiotasks`` owns shutdown. Two steps:
``started`` opens the store and binds the port (a port taken fails here, before anything runs,
which is how ``minecs up`` stops with one line), then ``Started.run`` tells systemd ``READY=1``
(``Type=notify`` units) and runs the reconcile loop with watchdog pings; ``serve`` is both.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from minecs.aiotasks import run_roots
from minecs.api.app import build_app
from minecs.api.metrics import ControllerMetrics
from minecs.api.serving import Serving
from minecs.awsprofile import local_endpoint, write_aws_profile
from minecs.controlplane.auth import load_or_create_admin
from minecs.controlplane.plane import ControlPlane
from minecs.controlplane.taskdefs import Identity
from minecs.datadir import secure
from minecs.logs import get_logger
from minecs.reconciler import reconcile_forever
from minecs.sdnotify import notify, watchdog
from minecs.settings import ControllerTuning, Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class Address:
    """Where this controller process serves: command-line arguments, not settings."""

    listen: str = "127.0.0.1"
    port: int = 7450

    @property
    def endpoint(self) -> str:
        return f"http://{self.listen}:{self.port}"


YOUNG_COLLECTION = 10_000
"""Net allocations between two collections of the youngest generation (CPython's default: 700)."""


def settle_garbage_collector() -> None:
    """Once started: freeze what start-up built (modules, the app, settings live as long as the
    process) and collect the young generation less often. Under 200 clients the defaults made about
    40 young collections a second and a 50-130 ms full one every 3-4 s, some 8 % of the CPU in all,
    most of it the same long-lived objects traversed again and again."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION, middle, old)


@dataclass(frozen=True)
class Started:
    """A controller that accepts connections (``started``): what its loops need to run."""

    plane: ControlPlane
    address: Address
    wake: asyncio.Event
    metrics: ControllerMetrics
    tuning: ControllerTuning

    async def run(self, stop: asyncio.Event) -> None:
        """Tell systemd it is ready, then the reconcile loop and the watchdog until ``stop``."""
        notify(f"READY=1\nSTATUS=serving on {self.address.endpoint}")
        await run_roots(
            {
                "reconcile": lambda: reconcile_forever(
                    self.plane, stop, self.wake, self.tuning.reconcile_interval, observer=self.metrics
                ),
                "watchdog": lambda: watchdog(stop),
            },
            stop,
        )


@contextlib.asynccontextmanager
async def started(settings: Settings, address: Address) -> AsyncIterator[Started]:
    """The store open and ``address`` accepting connections while the block runs; closed after.
    A port that is taken raises here (``PortTakenError``), before any loop has started."""
    identity = Identity(settings.region, settings.account_id)
    tuning = settings.controller
    secure(settings.data_dir)  # 0700 / 0600 before SQLite creates a file (minecs.datadir)
    plane = await ControlPlane.open(settings.data_dir, identity, tuning)
    admin = load_or_create_admin(settings.data_dir)
    # A parked poll must end well inside the disconnection window, or a healthy agent looks gone.
    wake = asyncio.Event()
    metrics = ControllerMetrics(CollectorRegistry())
    app = build_app(
        plane,
        admin,
        poll_wait=min(tuning.poll_wait, tuning.agent_timeout / 3),
        wake=wake,
        ecs_unsigned_loopback=tuning.allow_unsigned_loopback,
        metrics=metrics,
    )
    # Parked long-polls would hold shutdown for their whole wait; agents simply poll again.
    serving = Serving(app, shutdown_timeout=tuning.shutdown_timeout)
    try:
        await serving.start(address.listen, address.port)
        await plane.clusters.ensure_default()
        write_aws_profile(settings.data_dir, local_endpoint(address.listen, address.port), settings.region)
        settle_garbage_collector()
        log.info("controller listening", endpoint=address.endpoint, data_dir=str(settings.data_dir))
        yield Started(plane, address, wake, metrics, tuning)
    finally:
        notify("STOPPING=1")
        await serving.close()
        await plane.close()


async def serve(
    settings: Settings, address: Address, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """The controller until ``stop``: its section ``settings.controller``, the ARNs' region and
    account and the data dir from the tree; ``ready`` is set once ``address`` accepts connections."""
    async with started(settings, address) as controller:
        if ready is not None:
            ready.set()
        await controller.run(stop)
