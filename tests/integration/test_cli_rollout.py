"""``minecs rollout status|history|undo`` from the user's side, on a demo-like web service."""

from __future__ import annotations

from typing import Any

from tests.integration.processes import Up
from tests.integration.test_services import BREAKER, manifests
from tests.taskdefs import web


def _revision(greeting: str) -> dict[str, Any]:
    return web(environment=[{"name": "GREETING", "value": greeting}])


def _history(up: Up, service: str) -> list[list[str]]:
    shown = up.cli("rollout", "history", service)
    assert shown.returncode == 0, shown.stderr
    return [line.split(None, 3) for line in shown.stdout.splitlines()]


def _on(up: Up, service: str, revision: str) -> None:
    up.wait_service(service, lambda s: s["taskDefinition"].endswith(f"/{revision}"), within=10)


def test_status_waits_for_the_new_revision_history_lists_it_and_undo_goes_back(up: Up) -> None:
    up.ok("POST", "/v1/apply", {"documents": manifests("roll", _revision("one"), BREAKER)})
    done = up.cli("rollout", "status", "roll", timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'service "roll" successfully rolled out'
    assert done.stderr.splitlines()[-1] == "waiting: roll roll:1 2/2 new running, 0 old"

    up.ok("POST", "/v1/apply", {"documents": manifests("roll", _revision("two"), BREAKER)})
    done = up.cli("rollout", "status", "service/roll", timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "waiting: roll roll:2 2/2 new running, 0 old"
    rows = _history(up, "roll")
    assert rows[0] == ["REVISION", "TASKDEF", "CREATED", "STATUS"]
    assert [row[:2] for row in rows[1:]] == [["1", "roll:1"], ["2", "roll:2"]]  # newest last
    assert (rows[1][3], rows[2][3]) == ("INACTIVE", "PRIMARY (COMPLETED)")

    undone = up.cli("rollout", "undo", "roll")
    assert (undone.returncode, undone.stdout.strip()) == (0, "service/roll rolled back to roll:1"), (
        undone.stderr
    )
    _on(up, "roll", "roll:1")
    assert up.cli("rollout", "status", "roll", timeout=180).returncode == 0
    assert [row[1] for row in _history(up, "roll")[1:]] == ["roll:2", "roll:1"]
    again = up.cli("rollout", "undo", "roll")  # as kubectl's: a second undo goes back again
    assert again.stdout.strip() == "service/roll rolled back to roll:2", again.stderr
    _on(up, "roll", "roll:2")
    chosen = up.cli("rollout", "undo", "roll", "--to-revision", "1")
    assert chosen.stdout.strip() == "service/roll rolled back to roll:1", chosen.stderr
    _on(up, "roll", "roll:1")


def test_status_of_a_rollout_the_circuit_breaker_rolls_back_ends_1_with_the_reasons(up: Up) -> None:
    up.ok("POST", "/v1/apply", {"documents": manifests("fragile", _revision("fine"), BREAKER)})
    up.wait_steady("fragile")
    crashing = {**_revision("fine"), "command": ["sh", "-c", "exit 1"]}
    up.ok("POST", "/v1/apply", {"documents": manifests("fragile", crashing, BREAKER)})
    failed = up.cli("rollout", "status", "fragile", timeout=240)
    assert failed.returncode == 1
    said = failed.stderr.splitlines()
    assert any(line.startswith("waiting: fragile fragile:2 0/2 new running, ") for line in said), said
    verdict = said.index(
        "minecs: service fragile: deployment failed: ECS deployment circuit breaker: tasks failed to start."
    )
    assert said[verdict + 1].startswith("  task "), said
    assert said[verdict + 1].endswith("web: exit code 1"), said


def test_undo_of_a_service_that_ran_one_revision_says_to_give_it(up: Up) -> None:
    up.ok("POST", "/v1/apply", {"documents": manifests("single", _revision("only"), {"desiredCount": 1})})
    refused = up.cli("rollout", "undo", "single")
    assert refused.returncode == 1
    assert "has run no revision but single:1" in refused.stderr
    assert "give --to-revision N" in refused.stderr
    missing = up.cli("rollout", "status", "nothing-here")
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "minecs: ServiceNotFoundException: Service not found.",
    )


def test_status_follows_a_service_of_another_cluster(up: Up) -> None:
    """The agent of ``up`` is in cluster default, so the task waits for an instance: the timeout ends it."""
    cluster = {"apiVersion": "minecs.dev/v1", "kind": "Cluster", "metadata": {"name": "side"}, "spec": {}}
    documents = manifests("aside", _revision("over there"), {"desiredCount": 1, "cluster": "side"})
    up.ok("POST", "/v1/apply", {"documents": [cluster, *documents]})
    waited = up.cli("rollout", "status", "aside", "--cluster", "side", "--timeout", "3")
    assert waited.returncode == 1
    said = waited.stderr.splitlines()
    assert said[0] == "waiting: aside aside:1 0/1 new running, 0 old"
    assert "minecs: timed out waiting for services to be steady" in said
