"""Per-container ECS rules: each accepted form and each rejected one, with the exact code and message."""

from __future__ import annotations

from typing import Any

import pytest

from tests.taskdefs import container, problems, taskdef, valid

CE = "ClientException"
IPE = "InvalidParameterException"


def test_minimal_task_definition_is_valid_with_ecs_defaults() -> None:
    spec = valid(taskdef())
    c = spec.container_definitions[0]
    assert (c.essential, c.cpu, spec.network_mode.value) == (True, 0, "bridge")


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        (
            [],
            [(CE, "containerDefinitions", "Container list cannot be empty.")],
        ),
        (
            [container(f"c{i}") for i in range(11)],
            [(CE, "containerDefinitions", "A task definition can have at most 10 containers.")],
        ),
        (
            [container(name="")],
            [(CE, "containerDefinitions[0].name", "Container.name should not be null or empty.")],
        ),
        (
            [container(name="a.b")],
            [
                (
                    CE,
                    "containerDefinitions[0].name",
                    "Container name 'a.b' is invalid: up to 255 letters (uppercase and lowercase), numbers, "
                    "underscores, and hyphens are allowed.",
                )
            ],
        ),
        (
            [container("a"), container("a")],
            [
                (
                    CE,
                    "containerDefinitions[1].name",
                    "Container name 'a' is used more than once in the task definition.",
                )
            ],
        ),
        (
            [container(image=" ")],
            [(CE, "containerDefinitions[0].image", "Container.image should not be null or empty.")],
        ),
        (
            [container(essential=False)],
            [(CE, "containerDefinitions", "A task definition must have at least one essential container.")],
        ),
    ],
)
def test_names_image_and_essential(
    containers: list[dict[str, Any]], expected: list[tuple[str, str, str]]
) -> None:
    assert problems({"family": "web", "containerDefinitions": containers}) == expected


def test_names_at_the_limits_are_valid() -> None:
    valid(taskdef(container("a" * 255), container("A_b-9", essential=False)))


def test_memory_required_without_task_memory() -> None:
    doc = taskdef({"name": "app", "image": "x"})
    assert problems(doc) == [
        (
            CE,
            "containerDefinitions[0]",
            "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' must be specified.",
        )
    ]
    valid({**doc, "memory": "512"})
    valid(taskdef({"name": "app", "image": "x", "memoryReservation": 32}))


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (
            {"memory": 5},
            (
                "containerDefinitions[0].memory",
                "Invalid 'memory' setting for container 'app'. The minimum is 6 MiB; Docker reserves 6 MiB for every container.",
            ),
        ),
        (
            {"memory": 64, "memoryReservation": 64},
            (
                "containerDefinitions[0].memory",
                "Invalid setting for container 'app'. 'memory' must be greater than 'memoryReservation'.",
            ),
        ),
        (
            {"memory": None, "memoryReservation": 0},
            (
                "containerDefinitions[0].memoryReservation",
                "Invalid 'memoryReservation' setting for container 'app'. Must be a positive number of MiB.",
            ),
        ),
        (
            {"cpu": -1},
            ("containerDefinitions[0].cpu", "Invalid 'cpu' setting for container 'app'. Must be >= 0."),
        ),
        (
            {"startTimeout": -1},
            (
                "containerDefinitions[0].startTimeout",
                "Invalid 'startTimeout' setting for container 'app'. Must be >= 0.",
            ),
        ),
        (
            {"stopTimeout": -5},
            (
                "containerDefinitions[0].stopTimeout",
                "Invalid 'stopTimeout' setting for container 'app'. Must be >= 0.",
            ),
        ),
    ],
)
def test_container_resources_and_timeouts(members: dict[str, Any], expected: tuple[str, str]) -> None:
    assert problems(taskdef(container(**members))) == [(CE, *expected)]


def test_memory_at_six_mib_and_long_timeouts_without_fargate_are_valid() -> None:
    valid(taskdef(container(memory=6, memoryReservation=5, startTimeout=0, stopTimeout=3600)))


def test_fargate_limits_timeouts_to_120_seconds() -> None:
    doc = taskdef(
        container(startTimeout=121, stopTimeout=120),
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
    )
    assert problems(doc) == [
        (
            CE,
            "containerDefinitions[0].startTimeout",
            "Invalid 'startTimeout' setting for container 'app'. With FARGATE the maximum is 120 seconds.",
        )
    ]


@pytest.mark.parametrize(
    ("member", "value", "low", "high"),
    [
        ("interval", 4, 5, 300),
        ("interval", 301, 5, 300),
        ("timeout", 1, 2, 60),
        ("timeout", 61, 2, 60),
        ("retries", 0, 1, 10),
        ("retries", 11, 1, 10),
        ("startPeriod", -1, 0, 300),
        ("startPeriod", 301, 0, 300),
    ],
)
def test_health_check_ranges(member: str, value: int, low: int, high: int) -> None:
    doc = taskdef(container(healthCheck={"command": ["CMD", "true"], member: value}))
    assert problems(doc) == [
        (
            IPE,
            f"containerDefinitions[0].healthCheck.{member}",
            f"Invalid 'healthCheck' setting for container 'app'. '{member}' must be between {low} and {high}.",
        )
    ]


def test_health_check_edges_and_defaults() -> None:
    spec = valid(taskdef(container(healthCheck={"command": ["CMD-SHELL", "true"]})))
    check = spec.container_definitions[0].health_check
    assert check is not None
    assert (check.interval, check.timeout, check.retries, check.start_period) == (30, 5, 3, 0)
    valid(
        taskdef(
            container(
                healthCheck={
                    "command": ["CMD", "x"],
                    "interval": 5,
                    "timeout": 60,
                    "retries": 10,
                    "startPeriod": 300,
                }
            )
        )
    )


def test_health_check_needs_a_command() -> None:
    assert problems(taskdef(container(healthCheck={"command": []}))) == [
        (
            CE,
            "containerDefinitions[0].healthCheck.command",
            "Invalid 'healthCheck' setting for container 'app'. 'command' must not be empty.",
        )
    ]
    assert problems(taskdef(container(healthCheck={"interval": 5}))) == [
        (
            CE,
            "containerDefinitions[0].healthCheck.command",
            'Missing required parameter in containerDefinitions[0].healthCheck: "command"',
        )
    ]


def test_restart_policy_rules_and_default_period() -> None:
    spec = valid(taskdef(container(restartPolicy={"enabled": True, "ignoredExitCodes": list(range(50))})))
    policy = spec.container_definitions[0].restart_policy
    assert policy is not None
    assert policy.restart_attempt_period == 300
    assert problems(
        taskdef(container(restartPolicy={"enabled": True, "ignoredExitCodes": list(range(51))}))
    ) == [
        (
            IPE,
            "containerDefinitions[0].restartPolicy.ignoredExitCodes",
            "Invalid 'restartPolicy' setting for container 'app'. At most 50 ignoredExitCodes are allowed.",
        )
    ]
    for period in (59, 1801):
        assert problems(
            taskdef(container(restartPolicy={"enabled": True, "restartAttemptPeriod": period}))
        ) == [
            (
                IPE,
                "containerDefinitions[0].restartPolicy.restartAttemptPeriod",
                "Invalid 'restartPolicy' setting for container 'app'. 'restartAttemptPeriod' must be between 60 and 1800 seconds.",
            )
        ]
    valid(taskdef(container(restartPolicy={"enabled": True, "restartAttemptPeriod": 60})))
    valid(taskdef(container(restartPolicy={"enabled": False, "restartAttemptPeriod": 1800})))


def test_capability_names() -> None:
    valid(
        taskdef(
            container(linuxParameters={"capabilities": {"add": ["NET_ADMIN", "SYS_PTRACE"], "drop": ["ALL"]}})
        )
    )
    assert problems(taskdef(container(linuxParameters={"capabilities": {"add": ["CAP_NET_ADMIN"]}}))) == [
        (
            IPE,
            "containerDefinitions[0].linuxParameters.capabilities.add[0]",
            "Invalid capability 'CAP_NET_ADMIN' for container 'app'. Use a Linux capability name without the CAP_ prefix, e.g. NET_ADMIN.",
        )
    ]


def test_linux_parameter_ranges_and_tmpfs() -> None:
    valid(
        taskdef(
            container(
                linuxParameters={
                    "swappiness": 100,
                    "maxSwap": 0,
                    "sharedMemorySize": 64,
                    "tmpfs": [{"containerPath": "/run", "size": 64}],
                    "initProcessEnabled": True,
                }
            )
        )
    )
    found = problems(
        taskdef(
            container(linuxParameters={"swappiness": 101, "tmpfs": [{"containerPath": "run", "size": 0}]})
        )
    )
    assert found == [
        (
            IPE,
            "containerDefinitions[0].linuxParameters.swappiness",
            "Invalid 'swappiness' for container 'app'. Must be between 0 and 100.",
        ),
        (
            CE,
            "containerDefinitions[0].linuxParameters.tmpfs[0]",
            "Invalid tmpfs for container 'app'. It needs an absolute containerPath and a positive size (MiB).",
        ),
    ]


def test_ulimit_names_and_limits() -> None:
    valid(taskdef(container(ulimits=[{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}])))
    found = problems(
        taskdef(
            container(
                ulimits=[
                    {"name": "nofile", "softLimit": 10, "hardLimit": 1},
                    {"name": "nofile", "softLimit": 1, "hardLimit": 1},
                ]
            )
        )
    )
    assert found == [
        (
            IPE,
            "containerDefinitions[0].ulimits[0]",
            "Ulimit 'nofile' of container 'app': softLimit must not exceed hardLimit.",
        ),
        (
            CE,
            "containerDefinitions[0].ulimits[1].name",
            "Ulimit 'nofile' is set more than once for container 'app'.",
        ),
    ]
    assert problems(taskdef(container(ulimits=[{"name": "files", "softLimit": 1, "hardLimit": 1}])))[0][
        1
    ] == ("containerDefinitions[0].ulimits[0].name")


def test_environment_secrets_and_files() -> None:
    valid(
        taskdef(
            container(
                environment=[{"name": "A", "value": ""}],
                secrets=[{"name": "S", "valueFrom": "s"}],
                environmentFiles=[{"value": "/etc/app.env", "type": "s3"}],
            )
        )
    )
    found = problems(
        taskdef(
            container(
                environment=[{"value": "x"}],
                secrets=[{"name": " ", "valueFrom": "arn:aws:ssm:r:1:parameter/p"}, {"name": "S"}],
                environmentFiles=[{"value": f"/e{i}", "type": "s3"} for i in range(11)],
            )
        )
    )
    assert found == [
        (
            CE,
            "containerDefinitions[0].secrets[1].valueFrom",
            'Missing required parameter in containerDefinitions[0].secrets[1]: "valueFrom"',
        )
    ]
    found = problems(
        taskdef(
            container(
                environment=[{"value": "x"}],
                secrets=[{"name": " ", "valueFrom": "v"}],
                environmentFiles=[{"value": f"/e{i}", "type": "s3"} for i in range(11)],
            )
        )
    )
    assert found == [
        (
            CE,
            "containerDefinitions[0].environment[0].name",
            "Environment variable of container 'app' has no name.",
        ),
        (
            CE,
            "containerDefinitions[0].environmentFiles",
            "Container 'app' may have at most 10 environmentFiles.",
        ),
        (
            CE,
            "containerDefinitions[0].secrets[0].name",
            "Secret of container 'app' needs a non-empty 'name'.",
        ),
    ]
