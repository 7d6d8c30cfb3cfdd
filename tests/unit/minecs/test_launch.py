"""The launch rules as pure functions: which launch a request resolves to, and how a capacity provider
strategy spreads tasks (``base`` first, then ``weight``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from minecs.errors import EcsError
from minecs.model.registered import register
from minecs.model.service import CapacityProviderStrategyItem, LaunchType
from minecs.model.supportlaunch import LAUNCH_SECTION
from minecs.model.taskdef import TaskDefinition
from minecs.scheduling.launch import (
    BAD_NETWORK,
    BOTH,
    NO_NETWORK,
    NOT_ASSOCIATED,
    NOT_FARGATE,
    PLATFORM_LATEST,
    PLATFORM_VERSIONS,
    LaunchRequest,
    attachment_status,
    provider_for,
    resolve,
)
from tests.taskdefs import container, taskdef, valid


def registered(document: dict[str, Any]) -> TaskDefinition:
    return register(valid(document), arn="arn:aws:ecs:::task-definition/web:1", revision=1, registered_at=NOW)


NOW = datetime(2026, 1, 1, tzinfo=UTC)
FARGATE = CapacityProviderStrategyItem("FARGATE", weight=1, base=2)
SPOT = CapacityProviderStrategyItem("FARGATE_SPOT", weight=3)
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
SMALL = registered(taskdef(container(), networkMode="awsvpc", cpu="256", memory="512"))
BRIDGE = registered(taskdef(container()))


@pytest.mark.parametrize(
    ("strategy", "placed", "expected"),
    [
        ((FARGATE, SPOT), {}, "FARGATE"),  # base first
        ((FARGATE, SPOT), {"FARGATE": 1}, "FARGATE"),
        ((FARGATE, SPOT), {"FARGATE": 2}, "FARGATE_SPOT"),  # then 1:3 by weight
        ((FARGATE, SPOT), {"FARGATE": 2, "FARGATE_SPOT": 3}, "FARGATE"),
        ((FARGATE, SPOT), {"FARGATE": 3, "FARGATE_SPOT": 3}, "FARGATE_SPOT"),
        (
            (CapacityProviderStrategyItem("FARGATE_SPOT"),),
            {"FARGATE_SPOT": 9},
            "FARGATE_SPOT",
        ),  # weight 0 alone
        (
            (CapacityProviderStrategyItem("FARGATE", weight=0), SPOT),
            {},
            "FARGATE_SPOT",
        ),  # weight 0 places none
    ],
)
def test_the_next_task_goes_to_base_then_to_the_lightest_weighted_provider(
    strategy: tuple[CapacityProviderStrategyItem, ...], placed: dict[str, int], expected: str
) -> None:
    assert provider_for(strategy, placed) == expected


def test_no_launch_type_and_no_strategy_is_external_and_a_cluster_default_is_fargate() -> None:
    assert resolve(LaunchRequest(), BRIDGE).launch_type is LaunchType.EXTERNAL
    by_default = resolve(LaunchRequest(network=NETWORK), SMALL, default_strategy=(SPOT,))
    assert (by_default.launch_type, by_default.strategy, by_default.platform_version) == (
        LaunchType.FARGATE,
        (SPOT,),
        "LATEST",
    )
    # A launch type named in the call wins over the cluster's default strategy.
    assert resolve(LaunchRequest("EC2"), BRIDGE, default_strategy=(SPOT,)).launch_type is LaunchType.EC2


@pytest.mark.parametrize(
    ("request_", "associated", "words"),
    [
        (LaunchRequest("FARGATE", (SPOT,)), (), BOTH),
        (LaunchRequest(strategy=(SPOT,), network=NETWORK), ("FARGATE",), NOT_ASSOCIATED),
        (LaunchRequest(strategy=(SPOT, SPOT), network=NETWORK), (), "each capacity provider may appear once"),
        (
            LaunchRequest(strategy=(FARGATE, CapacityProviderStrategyItem("FARGATE_SPOT", base=1))),
            (),
            "only one capacity provider in a strategy can have a base defined",
        ),
        (
            LaunchRequest(
                strategy=(
                    CapacityProviderStrategyItem("FARGATE"),
                    CapacityProviderStrategyItem("FARGATE_SPOT"),
                )
            ),
            (),
            "at least one capacity provider must have a weight greater than zero",
        ),
        (LaunchRequest("FARGATE", network=NETWORK, platform_version="9.9.9"), (), "doesn't exist"),
        (LaunchRequest("SPACE"), (), "launchType must be one of"),
    ],
)
def test_strategies_and_launch_types_break_ecs_rules_with_their_words(
    request_: LaunchRequest, associated: tuple[str, ...], words: str
) -> None:
    with pytest.raises(EcsError) as refused:
        resolve(request_, SMALL, associated=associated)
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("last_status", "attachment"),
    [
        ("PROVISIONING", "PRECREATED"),
        ("PENDING", "PRECREATED"),
        ("ACTIVATING", "ATTACHED"),
        ("RUNNING", "ATTACHED"),
        ("DEACTIVATING", "ATTACHED"),
        ("STOPPING", "ATTACHED"),
        ("DEPROVISIONING", "DELETED"),
        ("STOPPED", "DELETED"),
    ],
)
def test_an_emulated_eni_follows_its_task_as_a_real_one_does(last_status: str, attachment: str) -> None:
    assert attachment_status(last_status) == attachment


def test_the_document_quotes_the_words_the_launch_rules_answer_with() -> None:
    """docs/task-definition-support.md (its launch section) says what RunTask really answers."""
    flowing = " ".join(LAUNCH_SECTION.split())
    for words in (BOTH, NOT_ASSOCIATED, NO_NETWORK, BAD_NETWORK, NOT_FARGATE):
        assert words in flowing
    assert f"`platformVersion: {PLATFORM_VERSIONS[PLATFORM_LATEST]}`" in flowing
