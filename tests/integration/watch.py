"""Watching a service from the user's side: boto3 polls every 250 ms and keeps what each poll saw.

A ``ServiceWatch`` is a thread that asks DescribeServices, ListTasks (desired RUNNING and STOPPED)
and DescribeTasks, as a user's script would, and turns each answer into a ``Sample``. Tests assert
the promises of a deployment (healthy tasks >= the minimum, tasks <= the maximum) on **every**
sample, not on the end state alone. A poll that fails (the controller is down, being restarted)
is counted and skipped: the invariant is about what the API says whenever it answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

POLL = 0.25


PATIENT = {"max_attempts": 30, "mode": "standard"}
"""Retries for a test's own calls across a restart of the controller."""
ONCE = {"max_attempts": 0}
"""No retry: one poll of the watch is one observation."""


def ecs_client(endpoint: str, credentials: str, *, retries: Mapping[str, Any] | None = None) -> Any:
    """A boto3 ECS client on ``endpoint`` with the admin credential file minecs wrote (profile
    ``minecs``); botocore's own retries and timeouts unless ``retries`` is given."""
    core = botocore.session.Session(profile="minecs")
    core.set_config_variable("credentials_file", credentials)
    core.set_config_variable("config_file", "/dev/null")
    config = Config(connect_timeout=2, read_timeout=20, retries=dict(retries)) if retries else None
    return boto3.Session(botocore_session=core, region_name="us-east-1").client(
        "ecs", endpoint_url=endpoint, config=config
    )


@dataclass(frozen=True)
class Sample:
    at: float
    running_count: int
    """DescribeServices' runningCount."""
    healthy: int
    """Tasks desired RUNNING that are RUNNING and HEALTHY: what serves and will go on serving."""
    serving: int
    """Tasks desired RUNNING that are RUNNING and not UNHEALTHY (health UNKNOWN when unchecked)."""
    alive: int
    """Tasks not STOPPED yet, desired RUNNING or not (what maximumPercent bounds)."""
    task_definition: str
    rollout: str
    """The PRIMARY deployment's rolloutState."""
    deployments: int
    containers: dict[str, str]
    """Task id -> its essential container's runtime id, for every task that has one."""


def task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class ServiceWatch(threading.Thread):
    def __init__(self, endpoint: str, credentials: str, service: str) -> None:
        super().__init__(daemon=True, name=f"watch-{service}")
        self.ecs = ecs_client(endpoint, credentials, retries=ONCE)
        self.service = service
        self.samples: list[Sample] = []
        self.failed_polls = 0
        self.failures: list[tuple[float, float, str]] = []
        """Each failed poll: when it began and ended (monotonic) and what it raised."""
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            began = time.monotonic()
            try:
                self.samples.append(self.sample())
            except (BotoCoreError, ClientError, KeyError, IndexError, ValueError) as exc:
                self.failed_polls += 1
                self.failures.append((began, time.monotonic(), f"{type(exc).__name__}: {exc}"[:300]))
            self.done.wait(POLL)

    def sample(self) -> Sample:
        (service,) = self.ecs.describe_services(services=[self.service])["services"]
        # Two ListTasks calls are two moments: a task told to stop between them is in both lists,
        # and counting it twice would show one task more alive (and serving) than there is.
        arns = list(
            dict.fromkeys(
                arn
                for desired in ("RUNNING", "STOPPED")
                for arn in self.ecs.list_tasks(serviceName=self.service, desiredStatus=desired)["taskArns"]
            )
        )
        tasks = self.ecs.describe_tasks(tasks=arns[:100])["tasks"] if arns else []
        primary = service["deployments"][0]
        live = [t for t in tasks if t["desiredStatus"] == "RUNNING" and t["lastStatus"] == "RUNNING"]
        return Sample(
            at=time.monotonic(),
            running_count=service["runningCount"],
            healthy=sum(t["healthStatus"] == "HEALTHY" for t in live),
            serving=sum(t["healthStatus"] != "UNHEALTHY" for t in live),
            alive=sum(t["lastStatus"] != "STOPPED" for t in tasks),
            task_definition=service["taskDefinition"],
            rollout=primary.get("rolloutState", ""),
            deployments=len(service["deployments"]),
            containers={
                task_id(t["taskArn"]): c["runtimeId"]
                for t in tasks
                for c in t["containers"][:1]
                if c.get("runtimeId")
            },
        )

    def has_seen(self, task_definition: str) -> bool:
        """True once a poll has seen the service on ``task_definition``."""
        return any(s.task_definition == task_definition for s in list(self.samples))

    def __enter__(self) -> ServiceWatch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join(timeout=30)


def wait_for(check: Callable[[], Any], within: float, what: str) -> Any:
    """Poll ``check`` (every 0.3 s) until it returns something truthy; fail with the last value."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (BotoCoreError, ClientError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.3)
    raise AssertionError(f"{what} never held within {within} s; last: {str(last)[:2000]}")
