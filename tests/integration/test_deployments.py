"""Rolling deployments and the circuit breaker on real containers, watched through boto3 at every poll.

The sequence (issue 15, item 0): a service of 3 tasks (maximumPercent 200, minimumHealthyPercent
100, circuit breaker with rollback) is updated to revision 2, which is healthy, then to revision 3,
whose container exits 1. What ECS promises, and what every 250 ms poll of DescribeServices /
DescribeTasks must show: at least 3 healthy tasks serving throughout, at most 6 tasks alive, and in
the end revision 2 serving 3 tasks again after a rollback. The same sequence then runs while
``minecs up`` is killed with SIGKILL at five random moments and restarted on the same data dir.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.integration.processes import Up
from tests.integration.watch import PATIENT, Sample, ServiceWatch, ecs_client, task_id, wait_for
from tests.taskdefs import web

SERVICE = "rollout"
DESIRED, MOST = 3, 6


def revision(number: int, *, checked: bool = True, crashing: bool = False) -> dict[str, Any]:
    """Revision ``number`` of the web server; ``checked`` with its health check, ``crashing`` exits 1."""
    container = web(environment=[{"name": "REVISION", "value": str(number)}])
    if not checked:
        del container["healthCheck"]
    if crashing:
        container["command"] = ["sh", "-c", "exit 1"]
    return {"family": SERVICE, "containerDefinitions": [container]}


def running(ecs: Any) -> dict[str, Any] | None:
    """The service once it has 3 tasks RUNNING, healthy or not yet."""
    service = _service(ecs)
    return service if service["runningCount"] == DESIRED else None


def steady_on(ecs: Any, arn: str) -> Callable[[], dict[str, Any] | None]:
    """True once the service is steady (one COMPLETED deployment, 3 running) on task definition ``arn``."""

    def check() -> dict[str, Any] | None:
        (service,) = ecs.describe_services(services=[SERVICE])["services"]
        (primary, *others) = service["deployments"]
        done = (
            service["taskDefinition"] == arn
            and not others
            and primary["rolloutState"] == "COMPLETED"
            and service["runningCount"] == DESIRED
            and service["pendingCount"] == 0
        )
        return service if done else None

    return check


class Sequence:
    """What the sequence saw: each revision's ARN (a retried register may have skipped a number),
    the tasks serving revision 2 just before the crashing update, and the service at the end."""

    arns: list[str]
    serving_before: set[str]
    result: dict[str, Any]


def run_sequence(ecs: Any, *, checked: bool = True, watch: ServiceWatch | None = None) -> Sequence:
    """Create on revision 1, update to 2 and wait for it, update to the crashing 3, wait for the rollback.

    With ``checked`` the revisions have health checks and the update to 2 waits for steady state;
    without, it comes as soon as revision 1 runs, while its tasks are not yet counted healthy (ECS
    waits 40 s for a task without a health check; the tests' controllers 3 s). With a ``watch``, the
    crashing update waits until the watch itself has seen the service on revision 2: on a loaded
    machine one slow poll could otherwise span the whole of revision 2's phase."""
    seen = Sequence()
    register = ecs.register_task_definition
    seen.arns = [register(**revision(1, checked=checked))["taskDefinition"]["taskDefinitionArn"]]
    ecs.create_service(
        serviceName=SERVICE,
        taskDefinition=seen.arns[0],
        desiredCount=DESIRED,
        deploymentConfiguration={
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )
    wait_for(steady_on(ecs, seen.arns[0]) if checked else partial(running, ecs), 120, "revision 1 running")
    seen.arns.append(register(**revision(2, checked=checked))["taskDefinition"]["taskDefinitionArn"])
    ecs.update_service(service=SERVICE, taskDefinition=seen.arns[1])
    wait_for(steady_on(ecs, seen.arns[1]), 180, "steady on revision 2")
    if watch is not None:
        wait_for(partial(watch.has_seen, seen.arns[1]), 60, "the watch seeing revision 2")
    crashing = revision(3, checked=checked, crashing=True)
    seen.arns.append(register(**crashing)["taskDefinition"]["taskDefinitionArn"])
    seen.serving_before = serving_tasks(ecs)
    ecs.update_service(service=SERVICE, taskDefinition=seen.arns[2])
    wait_for(
        lambda: any("rolling back to deployment" in e["message"] for e in _service(ecs)["events"]),
        240,
        "the rollback event",
    )
    seen.result = dict(wait_for(steady_on(ecs, seen.arns[1]), 180, "steady on revision 2 after the rollback"))
    return seen


def _service(ecs: Any) -> dict[str, Any]:
    (service,) = ecs.describe_services(services=[SERVICE])["services"]
    return dict(service)


def assert_the_promise_held(samples: list[Sample], arns: list[str], *, checked: bool = True) -> None:
    """From the moment revision 1 serves 3 tasks and the service counts them to the end: never fewer
    than 3 serving, never more than 6 alive. With health checks, serving means HEALTHY; without, RUNNING and not UNHEALTHY.

    The watch must have seen every later phase (the service on revision 2, the crashing 3 and 2
    again, in that order): a count of polls would be a timing figure, and the unchecked run is quick."""

    def serving(sample: Sample) -> int:
        return sample.healthy if checked else sample.serving

    # The promise starts once the service itself says revision 1 runs at full strength: its tasks
    # serve before DescribeServices' runningCount (the service's record, written by the scheduler's
    # next pass) has counted them, in ECS as here.
    first = next(i for i, s in enumerate(samples) if serving(s) >= DESIRED and s.running_count >= DESIRED)
    watched = samples[first:]
    phases = [
        s.task_definition
        for i, s in enumerate(watched)
        if i == 0 or watched[i - 1].task_definition != s.task_definition
    ]
    # Revision 1 may serve for less than one poll before the update to 2 comes.
    assert phases[-3:] == [arns[1], arns[2], arns[1]], f"the watch saw the phases {phases}"
    fewest = min(watched, key=serving)
    assert serving(fewest) >= DESIRED, f"only {serving(fewest)} tasks serving at one poll: {fewest}"
    weakest = min(watched, key=lambda s: s.running_count)
    assert weakest.running_count >= DESIRED, f"runningCount fell to {weakest.running_count}: {weakest}"
    most = max(watched, key=lambda s: s.alive)
    assert most.alive <= MOST, f"{most.alive} tasks alive at once: {most}"


def assert_each_task_kept_its_container(samples: list[Sample]) -> None:
    seen: dict[str, str] = {}
    for sample in samples:
        for task, container in sample.containers.items():
            assert seen.setdefault(task, container) == container, f"task {task} changed container"


def assert_rolled_back(ecs: Any, seen: Sequence) -> None:
    messages = [e["message"] for e in seen.result["events"]]
    failed = [m for m in messages if m.endswith("deployment failed: tasks failed to start.")]
    assert failed, messages[:20]
    (primary,) = seen.result["deployments"]
    assert f"(service {SERVICE}) rolling back to deployment {primary['id']}." in messages
    running = ecs.list_tasks(serviceName=SERVICE)["taskArns"]
    tasks = ecs.describe_tasks(tasks=running)["tasks"]
    assert {t["taskDefinitionArn"] for t in tasks} == {seen.arns[1]}
    assert {t["startedBy"] for t in tasks} == {primary["id"]}
    # The tasks that served revision 2 before the bad update are the ones serving after it.
    assert {task_id(t["taskArn"]) for t in tasks} == seen.serving_before


def serving_tasks(ecs: Any) -> set[str]:
    return {task_id(arn) for arn in ecs.list_tasks(serviceName=SERVICE)["taskArns"]}


def assert_engine_matches(ecs: Any, client: docker.DockerClient) -> None:
    """The engine runs exactly the containers of the RUNNING tasks: none lost, none left over."""
    running = ecs.describe_tasks(tasks=ecs.list_tasks(serviceName=SERVICE)["taskArns"])["tasks"]
    expected = {c["runtimeId"] for t in running for c in t["containers"]}
    selector: dict[str, str | list[str] | bool] = {
        "label": f"com.amazonaws.ecs.task-definition-family={SERVICE}"
    }
    on_engine = {c.id for c in client.containers.list(filters=selector)}
    assert on_engine == expected


@pytest.mark.parametrize("checked", [True, False], ids=["health-checked", "unchecked"])
def test_a_bad_deploy_rolls_back_and_never_drops_below_the_minimum(
    up: Up, docker_client: docker.DockerClient, checked: bool
) -> None:
    ecs = ecs_client(up.endpoint, str(up.data_dir / "credentials"), retries=PATIENT)
    with ServiceWatch(up.endpoint, str(up.data_dir / "credentials"), SERVICE) as watch:
        seen = run_sequence(ecs, checked=checked, watch=watch)
    print(f"{len(watch.samples)} polls, {watch.failed_polls} failed: {watch.failures}")
    assert_the_promise_held(watch.samples, seen.arns, checked=checked)
    assert_each_task_kept_its_container(watch.samples)
    assert_rolled_back(ecs, seen)
    assert_engine_matches(ecs, docker_client)


class Restarter:
    """Kills ``minecs up`` with SIGKILL at the given moments (seconds from start) and starts it again
    on the same data dir and port, as a power cut and a systemd restart would."""

    def __init__(self, up: Up, log: Path) -> None:
        self.current, self.log = up, log
        self.kills = 0

    def kill_and_restart(self) -> None:
        self.current.process.send_signal(signal.SIGKILL)
        self.current.process.wait(timeout=30)
        self.kills += 1
        self.current = Up(self.current.data_dir, self.current.port, log=self.log)

    def stop(self) -> None:
        if self.current.process.poll() is None:
            self.current.stop()


def test_kill_9_at_five_random_moments_converges_with_the_same_containers(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    seed = int(os.environ.get("MINECS_TEST_SEED") or random.SystemRandom().randrange(1 << 30))
    rng = random.Random(seed)
    # The sequence takes about 30 s unbroken: the five moments fall anywhere in it.
    moments = sorted(rng.uniform(2, 35) for _ in range(5))
    print(f"seed {seed}: kill -9 at {', '.join(f'{m:.1f}' for m in moments)} s")
    log = tmp_path / "up.log"
    restarter = Restarter(Up(tmp_path / "minecs", log=log), log)
    first = restarter.current
    ecs = ecs_client(first.endpoint, str(first.data_dir / "credentials"), retries=PATIENT)
    began = time.monotonic()

    def killer() -> None:
        for moment in moments:
            time.sleep(max(0.0, began + moment - time.monotonic()))
            restarter.kill_and_restart()

    killing = threading.Thread(target=killer, daemon=True)
    try:
        with ServiceWatch(first.endpoint, str(first.data_dir / "credentials"), SERVICE) as watch:
            killing.start()
            seen = run_sequence(ecs, watch=watch)
            killing.join(timeout=120)
            # After the last restart the service is steady on revision 2 and stays so.
            seen.result = dict(wait_for(steady_on(ecs, seen.arns[1]), 180, "steady after the last restart"))
        print(f"seed {seed}: {len(watch.samples)} polls, {watch.failed_polls} failed")
        assert restarter.kills == 5, f"seed {seed}: only {restarter.kills} kills happened"
        assert_the_promise_held(watch.samples, seen.arns)
        assert_each_task_kept_its_container(watch.samples)
        assert_rolled_back(ecs, seen)
        assert_engine_matches(ecs, docker_client)
    finally:
        killing.join(timeout=120)
        restarter.stop()
