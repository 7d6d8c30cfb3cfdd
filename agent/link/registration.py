"""Registration: how the agent introduces itself to the controller and gets its instance identity.

A first start (no identity saved in the data dir) needs a registration token; without one the agent
stops at once and says how to get one (``require_token``), rather than asking the controller and
reporting its refusal. The body says what this host offers (cpu units, memory MiB, reserved ports) and can run (ECS
capability attributes, which placement matches against ``requiresAttributes``). The identity the
controller answers is saved in the data directory, so a restarted agent registers again as the same
instance instead of a new one.
"""

from __future__ import annotations

import asyncio
import os
import platform
from pathlib import Path
from typing import Any

from agent.link.client import (
    Backoff,
    ControllerClient,
    Identity,
    load_identity,
    save_identity,
)
from agent.provision.ports import DEFAULT_RESERVED
from minecs.aiotasks import sleep_or_wake
from minecs.errors import ControllerUnavailableError, TokenMissingError
from minecs.logs import get_logger

log = get_logger(__name__)

AGENT_VERSION = "0.1.0"
IDENTITY_FILE = "instance.json"

# What this agent can run, as ECS capability attributes (placement matches requiresAttributes).
CAPABILITIES = (
    "ecs.capability.container-ordering",
    "ecs.capability.container-health-check",
    "ecs.capability.task-eni",
    "ecs.capability.secrets.ssm.environment-variables",
    "ecs.capability.container-restart-policy",
    "ecs.capability.docker-plugin.local",
    "com.amazonaws.ecs.capability.privileged-container",
    "com.amazonaws.ecs.capability.task-iam-role",
    *(
        f"com.amazonaws.ecs.capability.logging-driver.{d}"
        for d in (
            "json-file",
            "none",
            "syslog",
            "journald",
            "gelf",
            "fluentd",
            "awslogs",
            "awsfirelens",
            "splunk",
        )
    ),
)


def host_resources() -> dict[str, Any]:
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpu": (os.cpu_count() or 1) * 1024,
        "memory": memory_kib // 1024,
        "ports": sorted(DEFAULT_RESERVED),
    }


def registration_body(cluster: str, docker_version: str) -> dict[str, Any]:
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), platform.machine()
    )
    attributes = [{"name": "ecs.os-type", "value": "linux"}, {"name": "ecs.cpu-architecture", "value": arch}]
    attributes += [{"name": name} for name in CAPABILITIES]
    return {
        "cluster": cluster,
        "resources": host_resources(),
        "versionInfo": {"agentVersion": AGENT_VERSION, "dockerVersion": docker_version},
        "attributes": attributes,
    }


def require_token(data_dir: Path, token: str | None) -> None:
    """Raise ``TokenMissingError`` when the agent has neither a token nor an identity to register with."""
    if token or (data_dir / IDENTITY_FILE).exists():
        return
    raise TokenMissingError(
        f"the agent needs a registration token to register: {data_dir} holds no instance identity yet. "
        "Create one on the controller with 'minecs token create' and start the agent with --token TOKEN "
        "(once: it saves its identity and signs in with it from then on)"
    )


async def register(
    client: ControllerClient,
    *,
    cluster: str,
    token: str | None,
    data_dir: Path,
    docker_version: str,
    stop: asyncio.Event,
    backoff: Backoff | None = None,
) -> Identity | None:
    """Register (or re-register as the saved instance), retrying while the controller is away; the
    identity, saved in ``data_dir``, or None when ``stop`` came first. A refusal raises."""
    path = data_dir / IDENTITY_FILE
    saved = load_identity(path)
    backoff = backoff or Backoff()
    while not stop.is_set():
        try:
            answer = await client.register(
                registration_body(cluster, docker_version), token=token, identity=saved
            )
        except ControllerUnavailableError as exc:
            delay = backoff.failed()
            log.warning(
                "controller unreachable; registration retried", error=exc.message, retry_in_seconds=delay
            )
            await sleep_or_wake(delay, stop)
            continue
        identity = Identity(
            answer["instanceId"],
            answer.get("credential") or (saved.credential if saved else ""),
            answer["containerInstanceArn"],
            answer["cluster"],
        )
        save_identity(path, identity)
        log.info("registered", instance=identity.container_instance_arn, reused=saved is not None)
        return identity
    return None
