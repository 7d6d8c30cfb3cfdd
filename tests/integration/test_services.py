"""Services on real containers through ``minecs up``: a sampled rollout, health replacement, back-off,
scale to zero and delete."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import docker
import yaml

from minecs.controlplane.services import is_steady
from tests.integration.processes import Up
from tests.taskdefs import web

HEALTHY_WEB = web()


def manifests(family: str, container: Any, service: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "minecs.dev/v1",
            "kind": "TaskDefinition",
            "metadata": {"name": family},
            "spec": {"containerDefinitions": [container]},
        },
        {
            "apiVersion": "minecs.dev/v1",
            "kind": "Service",
            "metadata": {"name": family},
            "spec": {"taskDefinition": family, **service},
        },
    ]


class Sampler(threading.Thread):
    """Samples the engine itself (the ground truth) while a rollout runs: every container of the family."""

    def __init__(self, client: docker.DockerClient, family: str) -> None:
        super().__init__(daemon=True)
        self.client, self.family = client, family
        self.samples: list[tuple[int, int]] = []  # (running containers, healthy containers)
        self.done = threading.Event()

    def run(self) -> None:
        selector = {"label": f"com.amazonaws.ecs.task-definition-family={self.family}"}
        while not self.done.is_set():
            listed = self.client.api.containers(filters=selector)
            running = [c for c in listed if c["State"] == "running"]
            self.samples.append((len(running), sum("(healthy)" in c["Status"] for c in running)))
            time.sleep(0.1)


def test_a_rollout_sampled_on_the_engine_stays_within_max_150_and_min_50(
    up: Up, docker_client: docker.DockerClient
) -> None:
    """Done 3: desired 4, maximumPercent 150, minimumHealthyPercent 50, a new revision."""
    config = {
        "desiredCount": 4,
        "deploymentConfiguration": {"maximumPercent": 150, "minimumHealthyPercent": 50},
    }
    up.ok("POST", "/v1/apply", {"documents": manifests("rollout", HEALTHY_WEB, config)})
    up.wait_steady("rollout")
    second: dict[str, Any] = copy.deepcopy(HEALTHY_WEB)
    second["environment"] = [{"name": "REVISION", "value": "2"}]
    sampler = Sampler(docker_client, "rollout")
    sampler.start()
    try:
        up.ok("POST", "/v1/apply", {"documents": manifests("rollout", second, config)})
        final = up.wait_service(
            "rollout", lambda s: is_steady(s) and s["taskDefinition"].endswith(":2"), within=180
        )
    finally:
        sampler.done.set()
        sampler.join()
    assert final["runningCount"] == 4
    most = max(running for running, _ in sampler.samples)
    fewest_healthy = min(healthy for _, healthy in sampler.samples)
    print(f"rollout: {len(sampler.samples)} samples, max running {most}, min healthy {fewest_healthy}")
    assert len(sampler.samples) > 20
    assert most <= 6  # floor(4 * 150 %)
    assert fewest_healthy >= 2  # ceil(4 * 50 %)
    assert most > 4  # it did use the room above desired (so the bound was really exercised)
    live = up.live("service:rollout")
    assert {t["taskDefinitionArn"].rsplit(":", 1)[-1] for t in live} == {"2"}


def test_a_task_failing_its_health_checks_is_stopped_and_replaced(
    up: Up, docker_client: docker.DockerClient
) -> None:
    checked = web(
        command=["sh", "-c", "touch /tmp/ok; exec httpd -f -p 8080 -h /var/www"],
        healthCheck={"command": ["CMD-SHELL", "test -f /tmp/ok"], "interval": 5, "retries": 1},
    )
    up.ok("POST", "/v1/apply", {"documents": manifests("checked", checked, {"desiredCount": 2})})
    up.wait_steady("checked")
    victim = up.live("service:checked")[0]
    victim_id = victim["taskArn"].rsplit("/", 1)[-1]
    docker_client.containers.get(victim["containers"][0]["runtimeId"]).exec_run(["rm", "/tmp/ok"])
    stopped = up.wait_task(victim_id, "STOPPED", within=60)
    assert (stopped["stopCode"], stopped["stoppedReason"]) == (
        "ServiceSchedulerInitiated",
        "Task failed container health checks",
    )
    service = up.wait_steady("checked")
    messages = [e["message"] for e in service["events"]]
    assert f"(service checked) (task {victim_id}) failed container health checks." in messages
    assert victim_id not in {t["taskArn"].rsplit("/", 1)[-1] for t in up.live("service:checked")}
    assert len(up.live("service:checked")) == 2


def test_tasks_that_cannot_start_back_off_with_the_ecs_event(up: Up) -> None:
    unpullable = web(image="127.0.0.1:9/minecs/no-such-image:1")  # a closed loopback registry
    up.ok("POST", "/v1/apply", {"documents": manifests("hopeless", unpullable, {"desiredCount": 1})})
    service = up.wait_service(
        "hopeless",
        lambda s: any(
            e["message"].endswith("is unable to consistently start tasks successfully.") for e in s["events"]
        ),
        within=120,
    )
    assert service["runningCount"] == 0
    stopped = [t for t in up.tasks() if t["group"] == "service:hopeless" and t["lastStatus"] == "STOPPED"]
    assert len(stopped) >= 3
    assert all(not t.get("startedAt") for t in stopped)  # none ever ran
    launched = len([t for t in up.tasks() if t["group"] == "service:hopeless"])
    time.sleep(4)  # within the first 10 s pause nothing more is launched
    assert len([t for t in up.tasks() if t["group"] == "service:hopeless"]) <= launched + 1


def test_scale_to_zero_then_delete_from_the_cli(up: Up, docker_client: docker.DockerClient) -> None:
    up.ok("POST", "/v1/apply", {"documents": manifests("shrink", HEALTHY_WEB, {"desiredCount": 2})})
    up.wait_steady("shrink")
    refused = up.cli("delete", "service", "shrink")
    assert refused.returncode == 1
    assert "The service cannot be stopped while it is scaled above 0." in refused.stderr
    assert up.cli("scale", "shrink", "0").returncode == 0
    zero = up.wait_service("shrink", lambda s: s["runningCount"] == 0 and is_steady(s))
    assert zero["desiredCount"] == 0
    # As in ECS, 'stable' counts RUNNING tasks only; tasks still STOPPING finish shortly after.
    selector: dict[str, str | list[str] | bool] = {"label": "com.amazonaws.ecs.task-definition-family=shrink"}
    up.wait(lambda: not docker_client.containers.list(filters=selector), 60, "containers stopped")
    up.wait(
        lambda: all(t["lastStatus"] == "STOPPED" for t in up.tasks() if t["group"] == "service:shrink"),
        30,
        "both tasks reported STOPPED",
    )
    deleted = up.cli("delete", "service", "shrink")
    assert (deleted.returncode, deleted.stdout.strip()) == (0, "service/shrink deleted")
    up.wait(lambda: _status(up, "shrink") == "INACTIVE", 60, "inactive")
    listed = up.cli("get", "services")
    assert "shrink" not in listed.stdout
    events = up.cli("events", "shrink")
    assert "(service shrink) has stopped 2 running tasks" in events.stdout


def test_force_delete_drains_a_running_service(up: Up, docker_client: docker.DockerClient) -> None:
    documents = manifests("drain", HEALTHY_WEB, {"desiredCount": 2})
    up.ok("POST", "/v1/apply", {"documents": documents})
    up.wait_steady("drain")
    path = up.data_dir / "drain.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    done = up.cli("delete", "-f", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["service/drain deleted", "taskdef/drain deleted"]
    up.wait(lambda: _status(up, "drain") == "INACTIVE", 60, "drained")
    selector: dict[str, str | list[str] | bool] = {"label": "com.amazonaws.ecs.task-definition-family=drain"}
    up.wait(lambda: not docker_client.containers.list(filters=selector), 60, "containers stopped")
    family = up.ok("GET", "/v1/taskdefinitions/drain:1")["taskDefinition"]
    assert family["status"] == "INACTIVE"


def _status(up: Up, name: str) -> str | None:
    service = up.service(name)
    return None if service is None else str(service["status"])


def test_apply_wait_shows_progress_and_fails_with_the_reason(up: Up) -> None:
    good = up.data_dir / "good.yaml"
    good.write_text(yaml.safe_dump_all(manifests("waited", HEALTHY_WEB, BREAKER)))
    done = up.cli("apply", "-f", str(good), "--wait", timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "all services steady"
    progress = [line for line in done.stderr.splitlines() if line.startswith("waiting: waited ")]
    # As kubectl rollout status: the revision, its tasks running against the desired count, the old ones.
    assert progress[-1] == "waiting: waited waited:1 2/2 new running, 0 old"
    assert any("0/2" in line or "1/2" in line for line in progress)  # it showed the way there
    crashing = {**HEALTHY_WEB, "command": ["sh", "-c", "exit 1"]}
    bad = up.data_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump_all(manifests("waited", crashing, BREAKER)))
    failed = up.cli("apply", "-f", str(bad), "--wait", timeout=240)
    assert failed.returncode == 1
    said = failed.stderr.splitlines()
    verdict = said.index(
        "minecs: service waited: deployment failed: ECS deployment circuit breaker: tasks failed to start."
    )
    # Then why, where the user is looking: each failed task's stop code, reason and exit code.
    why = said[verdict + 1 :]
    assert why, failed.stderr
    assert all(
        line.startswith("  task ")
        and line.endswith(
            " STOPPED (EssentialContainerExited): Essential container in task exited; web: exit code 1"
        )
        for line in why
    ), why
    assert any(line.startswith("waiting: waited waited:2 0/2 new running, ") for line in said), said


BREAKER = {
    "desiredCount": 2,
    "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
}
