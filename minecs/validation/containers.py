"""Rules on each container definition taken alone: names, image, memory, timeouts, health check,
restart policy, Linux parameters, environment, secrets, ulimits.

Messages use ECS's exact text where it is known: ``Container list cannot be empty.`` (CloudFormation
quotes it: awsdocs/aws-cloudformation-user-guide#454), ``Container.name should not be null or
empty.`` (hashicorp/terraform#2888), ``Container.image should not be null or empty.``
(aws/aws-cli#5924), ``Invalid setting for container 'x'. At least one of 'memory' or
'memoryReservation' must be specified.`` (cuttlesoft/ecs-deploy.py#17). Elsewhere no source gives
ECS's words: the messages are ours, in the same style, and always name the container, because the ECS
front end answers with the sentence alone.

Order: the containers are checked one after another, each completely (name, image, memory, ...), so
the first problem is the first container's first, which is what ECS answers with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from minecs.model.containerdef import ContainerDefinition, HealthCheck
from minecs.model.taskdef import Compatibility, TaskDefinitionSpec
from minecs.validation.report import INVALID_PARAMETER, Report, container_path, in_range

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
MIN_MEMORY_MIB = 6
MAX_CONTAINERS = 10
FARGATE_MAX_TIMEOUT = 120
MAX_IGNORED_EXIT_CODES = 50
MAX_ENVIRONMENT_FILES = 10

# Linux capabilities ECS accepts in linuxParameters.capabilities (KernelCapabilities in the API).
CAPABILITIES = frozenset(
    [
        "ALL",
        "AUDIT_CONTROL",
        "AUDIT_WRITE",
        "BLOCK_SUSPEND",
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "IPC_LOCK",
        "IPC_OWNER",
        "KILL",
        "LEASE",
        "LINUX_IMMUTABLE",
        "MAC_ADMIN",
        "MAC_OVERRIDE",
        "MKNOD",
        "NET_ADMIN",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_RAW",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_CHROOT",
        "SYS_MODULE",
        "SYS_NICE",
        "SYS_PACCT",
        "SYS_PTRACE",
        "SYS_RAWIO",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "SYSLOG",
        "WAKE_ALARM",
    ]
)

# (member, low, high) in seconds/count, as the HealthCheck API documents them.
HEALTH_RANGES = (("interval", 5, 300), ("timeout", 2, 60), ("retries", 1, 10), ("startPeriod", 0, 300))


def check_containers(spec: TaskDefinitionSpec, report: Report) -> None:
    containers = spec.container_definitions
    if not containers:
        report.add("containerDefinitions", "Container list cannot be empty.")
        return
    if len(containers) > MAX_CONTAINERS:
        report.add("containerDefinitions", f"A task definition can have at most {MAX_CONTAINERS} containers.")
    fargate = Compatibility.FARGATE in spec.requires_compatibilities
    seen: set[str] = set()
    for index, container in enumerate(containers):
        _check_name(index, container, seen, report)
        _check_one(index, container, report, task_memory=spec.memory is not None, fargate=fargate)
    if not any(c.essential for c in containers):
        report.add("containerDefinitions", "A task definition must have at least one essential container.")


def _check_name(index: int, c: ContainerDefinition, seen: set[str], report: Report) -> None:
    path = container_path(index, "name")
    if not c.name:
        report.add(path, "Container.name should not be null or empty.")
    elif not NAME_PATTERN.match(c.name):
        report.add(
            path,
            f"Container name '{c.name}' is invalid: up to 255 letters (uppercase and lowercase), "
            "numbers, underscores, and hyphens are allowed.",
        )
    elif c.name in seen:
        report.add(path, f"Container name '{c.name}' is used more than once in the task definition.")
    if c.name:
        seen.add(c.name)


def _check_one(
    index: int, c: ContainerDefinition, report: Report, *, task_memory: bool, fargate: bool
) -> None:
    label = c.name or f"#{index}"
    if not c.image or not c.image.strip():
        report.add(container_path(index, "image"), "Container.image should not be null or empty.")
    _check_memory(index, c, label, report, task_memory=task_memory)
    if c.cpu < 0:
        report.add(
            container_path(index, "cpu"), f"Invalid 'cpu' setting for container '{label}'. Must be >= 0."
        )
    _check_timeouts(index, c, label, report, fargate=fargate)
    if c.health_check is not None:
        _check_health(index, c.health_check, label, report)
    _check_restart_policy(index, c, label, report)
    _check_linux_parameters(index, c, label, report)
    _check_environment(index, c, label, report)
    _check_ulimits(index, c, label, report)


def _check_memory(
    index: int, c: ContainerDefinition, label: str, report: Report, *, task_memory: bool
) -> None:
    if c.memory is None and c.memory_reservation is None and not task_memory:
        report.add(
            container_path(index),
            f"Invalid setting for container '{label}'. At least one of 'memory' or "
            "'memoryReservation' must be specified.",
        )
    if c.memory is not None and c.memory < MIN_MEMORY_MIB:
        report.add(
            container_path(index, "memory"),
            f"Invalid 'memory' setting for container '{label}'. The minimum is {MIN_MEMORY_MIB} MiB; "
            "Docker reserves 6 MiB for every container.",
        )
    if c.memory_reservation is not None and c.memory_reservation <= 0:
        report.add(
            container_path(index, "memoryReservation"),
            f"Invalid 'memoryReservation' setting for container '{label}'. Must be a positive number of MiB.",
        )
    if c.memory is not None and c.memory_reservation is not None and c.memory <= c.memory_reservation:
        report.add(
            container_path(index, "memory"),
            f"Invalid setting for container '{label}'. 'memory' must be greater than 'memoryReservation'.",
        )


def _check_timeouts(index: int, c: ContainerDefinition, label: str, report: Report, *, fargate: bool) -> None:
    for member, value in (("startTimeout", c.start_timeout), ("stopTimeout", c.stop_timeout)):
        if value is None:
            continue
        if value < 0:
            report.add(
                container_path(index, member),
                f"Invalid '{member}' setting for container '{label}'. Must be >= 0.",
            )
        elif fargate and value > FARGATE_MAX_TIMEOUT:
            report.add(
                container_path(index, member),
                f"Invalid '{member}' setting for container '{label}'. "
                f"With FARGATE the maximum is {FARGATE_MAX_TIMEOUT} seconds.",
            )


def _check_health(index: int, health: HealthCheck, label: str, report: Report) -> None:
    path = container_path(index, "healthCheck")
    if not health.command or not any(part.strip() for part in health.command):
        report.add(
            f"{path}.command",
            f"Invalid 'healthCheck' setting for container '{label}'. 'command' must not be empty.",
        )
    values = {
        "interval": health.interval,
        "timeout": health.timeout,
        "retries": health.retries,
        "startPeriod": health.start_period,
    }
    out_of_range = (
        (member, not in_range(values[member], low, high), f"'{member}' must be between {low} and {high}.")
        for member, low, high in HEALTH_RANGES
    )
    _refuse_settings(path, "healthCheck", label, out_of_range, report)


def _check_restart_policy(index: int, c: ContainerDefinition, label: str, report: Report) -> None:
    policy = c.restart_policy
    if policy is None:
        return
    path = container_path(index, "restartPolicy")
    refused = (
        (
            "ignoredExitCodes",
            len(policy.ignored_exit_codes) > MAX_IGNORED_EXIT_CODES,
            f"At most {MAX_IGNORED_EXIT_CODES} ignoredExitCodes are allowed.",
        ),
        (
            "restartAttemptPeriod",
            not in_range(policy.restart_attempt_period, 60, 1800),
            "'restartAttemptPeriod' must be between 60 and 1800 seconds.",
        ),
    )
    _refuse_settings(path, "restartPolicy", label, refused, report)


def _refuse_settings(
    path: str, setting: str, label: str, checks: Iterable[tuple[str, bool, str]], report: Report
) -> None:
    """Each (member, failed, why) that failed, as ``Invalid '<setting>' setting for container ...``."""
    for member, failed, why in checks:
        if failed:
            report.add(
                f"{path}.{member}",
                f"Invalid '{setting}' setting for container '{label}'. {why}",
                INVALID_PARAMETER,
            )


def _check_linux_parameters(index: int, c: ContainerDefinition, label: str, report: Report) -> None:
    params = c.linux_parameters
    if params is None:
        return
    path = container_path(index, "linuxParameters")
    if params.capabilities is not None:
        for member, names in (("add", params.capabilities.add), ("drop", params.capabilities.drop)):
            for i, name in enumerate(names):
                if name not in CAPABILITIES:
                    report.add(
                        f"{path}.capabilities.{member}[{i}]",
                        f"Invalid capability '{name}' for container '{label}'. "
                        "Use a Linux capability name without the CAP_ prefix, e.g. NET_ADMIN.",
                        INVALID_PARAMETER,
                    )
    for member, value, low, high in (
        ("sharedMemorySize", params.shared_memory_size, 1, 2**31),
        ("maxSwap", params.max_swap, 0, 2**31),
        ("swappiness", params.swappiness, 0, 100),
    ):
        if value is not None and not in_range(value, low, high):
            report.add(
                f"{path}.{member}",
                f"Invalid '{member}' for container '{label}'. Must be between {low} and {high}.",
                INVALID_PARAMETER,
            )
    for i, tmpfs in enumerate(params.tmpfs):
        if tmpfs.size <= 0 or not tmpfs.container_path.startswith("/"):
            report.add(
                f"{path}.tmpfs[{i}]",
                f"Invalid tmpfs for container '{label}'. It needs an absolute containerPath and a positive size (MiB).",
            )


def _check_environment(index: int, c: ContainerDefinition, label: str, report: Report) -> None:
    for i, pair in enumerate(c.environment):
        if not pair.name:
            report.add(
                container_path(index, f"environment[{i}].name"),
                f"Environment variable of container '{label}' has no name.",
            )
    if len(c.environment_files) > MAX_ENVIRONMENT_FILES:
        report.add(
            container_path(index, "environmentFiles"),
            f"Container '{label}' may have at most {MAX_ENVIRONMENT_FILES} environmentFiles.",
        )
    for i, secret in enumerate(c.secrets):
        for member, value in (("name", secret.name), ("valueFrom", secret.value_from)):
            if not value.strip():
                report.add(
                    container_path(index, f"secrets[{i}].{member}"),
                    f"Secret of container '{label}' needs a non-empty '{member}'.",
                )


def _check_ulimits(index: int, c: ContainerDefinition, label: str, report: Report) -> None:
    seen: set[str] = set()
    for i, ulimit in enumerate(c.ulimits):
        path = container_path(index, f"ulimits[{i}]")
        if ulimit.soft_limit > ulimit.hard_limit:
            report.add(
                path,
                f"Ulimit '{ulimit.name}' of container '{label}': softLimit must not exceed hardLimit.",
                INVALID_PARAMETER,
            )
        if ulimit.name in seen:
            report.add(
                f"{path}.name", f"Ulimit '{ulimit.name}' is set more than once for container '{label}'."
            )
        seen.add(ulimit.name)
