"""Network modes on real containers: bridge ports on 127.0.0.1, host, none, emulated awsvpc."""

from __future__ import annotations

import asyncio
import time
import urllib.request

import docker

from agent.runtime.base import parse_docker_time
from agent.tasks.engine import Engine
from minecs.model.task import KnownStatus
from tests.conftest import LOOPBACK, free_port
from tests.integration.agent.conftest import assignment, container, rid
from tests.snapshots import is_running, is_stopped, stop_task

HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/var/www"]


async def _get(url: str) -> str:
    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    return await asyncio.to_thread(fetch)


async def test_bridge_dynamic_and_static_ports_answer_on_loopback(
    engine: Engine, docker_client: docker.DockerClient
) -> None:
    static = free_port()
    task = assignment(
        container("web", command=HTTPD, portMappings=[{"containerPort": 8080}]),
        container("admin", command=HTTPD, portMappings=[{"containerPort": 8080, "hostPort": static}]),
    )
    engine.apply(task)
    running = await engine.wait_for(task.task_arn, is_running, within=60)
    (dynamic,) = running.container("web").network_bindings
    (fixed,) = running.container("admin").network_bindings
    assert (fixed.host_port, fixed.bind_ip, fixed.container_port) == (static, LOOPBACK, 8080)
    assert dynamic.host_port != 0
    assert dynamic.bind_ip == LOOPBACK
    for port in (dynamic.host_port, static):
        assert "minecs busybox" in await _get(f"http://{LOOPBACK}:{port}/")
    inspected = docker_client.api.inspect_container(rid(running, "web"))
    assert inspected["NetworkSettings"]["Ports"]["8080/tcp"] == [
        {"HostIp": LOOPBACK, "HostPort": str(dynamic.host_port)}
    ]
    labels = inspected["Config"]["Labels"]
    assert labels["com.amazonaws.ecs.task-arn"] == task.task_arn
    assert labels["com.amazonaws.ecs.container-name"] == "web"
    assert labels["com.amazonaws.ecs.task-definition-family"] == "it"
    assert labels["com.amazonaws.ecs.task-definition-version"] == "1"
    assert labels["com.amazonaws.ecs.cluster"] == "default"
    assert inspected["Name"].startswith("/ecs-it-1-web-")
    await stop_task(engine, task)


async def test_links_resolve_by_alias_in_bridge_mode(engine: Engine) -> None:
    task = assignment(
        container("db", command=HTTPD),
        container(
            "client",
            essential=False,
            links=["db:database"],
            command=["sh", "-c", "wget -q -O /dev/null http://database:8080/"],
        ),
        container("app"),
    )
    engine.apply(task)
    done = await engine.wait_for(
        task.task_arn, lambda s: s.container("client").known_status is KnownStatus.STOPPED, within=60
    )
    assert done.container("client").exit_code == 0
    await stop_task(engine, task)


async def test_host_mode_uses_the_host_network(engine: Engine) -> None:
    port = free_port()
    task = assignment(
        container(
            "web",
            command=["httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/var/www"],
            portMappings=[{"containerPort": port}],
        ),
        networkMode="host",
    )
    engine.apply(task)
    running = await engine.wait_for(task.task_arn, is_running, within=60)
    assert running.container("web").network_bindings[0].host_port == port
    deadline = time.monotonic() + 10
    while True:
        try:
            assert "minecs busybox" in await _get(f"http://127.0.0.1:{port}/")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    await stop_task(engine, task)


async def test_none_mode_has_only_loopback(engine: Engine, docker_client: docker.DockerClient) -> None:
    task = assignment(
        container("probe", command=["sh", "-c", "ip -o link | cut -d: -f2"]),
        networkMode="none",
    )
    engine.apply(task)
    stopped = await engine.wait_for(task.task_arn, is_stopped, within=60)
    logs = docker_client.api.logs(rid(stopped, "probe")).decode()
    assert [line.strip() for line in logs.splitlines() if line.strip()] == ["lo"]


async def test_awsvpc_emulation_shares_localhost_and_publishes_on_the_pause_container(
    engine: Engine, docker_client: docker.DockerClient
) -> None:
    task = assignment(
        container("web", command=HTTPD, portMappings=[{"containerPort": 8080}]),
        container(
            "client",
            essential=False,
            dependsOn=[{"containerName": "web", "condition": "START"}],
            command=[
                "sh",
                "-c",
                "for i in 1 2 3 4 5; do wget -q -O /dev/null http://127.0.0.1:8080/ && exit 0; sleep 1; done; exit 1",
            ],
        ),
        networkMode="awsvpc",
        memory="256",
    )
    engine.apply(task)
    done = await engine.wait_for(
        task.task_arn, lambda s: s.container("client").known_status is KnownStatus.STOPPED, within=60
    )
    assert done.container("client").exit_code == 0
    (binding,) = done.container("web").network_bindings
    assert "minecs busybox" in await _get(f"http://{LOOPBACK}:{binding.host_port}/")
    web = docker_client.api.inspect_container(rid(done, "web"))
    assert web["HostConfig"]["NetworkMode"].startswith("container:")
    pause_id = web["HostConfig"]["NetworkMode"].removeprefix("container:")
    assert (
        docker_client.api.inspect_container(pause_id)["Config"]["Labels"]["com.amazonaws.ecs.container-name"]
        == "~internal~ecs~pause"
    )
    await stop_task(engine, task)
    assert not docker_client.containers.list(all=True, filters={"id": pause_id})


async def test_independent_containers_start_in_parallel(
    engine: Engine, docker_client: docker.DockerClient
) -> None:
    """Prints the ratio of a 6-container start to a 1-container start (no assertion on time)."""
    one = assignment(container("only"))
    started = time.monotonic()
    engine.apply(one)
    await engine.wait_for(one.task_arn, is_running, within=60)
    single = time.monotonic() - started
    six = assignment(*(container(f"c{i}") for i in range(6)))
    started = time.monotonic()
    engine.apply(six)
    running = await engine.wait_for(six.task_arn, is_running, within=120)
    sixfold = time.monotonic() - started
    assert all(c.known_status is KnownStatus.RUNNING for c in running.containers)
    # Parallel starts overlap: some container was created before another one had started.
    windows = []
    for c in running.containers:
        attrs = docker_client.api.inspect_container(c.runtime_id or "")
        windows.append((parse_docker_time(attrs["Created"]), parse_docker_time(attrs["State"]["StartedAt"])))
    overlapping = any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(windows) for b in windows[i + 1 :])  # type: ignore[operator]
    print(
        f"parallel start: 1 container {single:.2f}s, 6 containers {sixfold:.2f}s, ratio {sixfold / single:.2f}x"
    )
    assert overlapping
    await stop_task(engine, one)
    await stop_task(engine, six)
