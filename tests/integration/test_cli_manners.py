"""Issue 21, item 5: the CLI with kubectl's manners, run as a process against ``minecs up`` with
the demo seeded, its output read as text.

Kinds in singular, plural and short form; ``get KIND NAME`` and ``KIND/NAME``; task id prefixes;
``get -w``; ``diff -f`` and ``apply --dry-run=server``; "did you mean"; readable times in
``describe``, ISO in ``-o json``; a stopped task without health; ``delete service`` on a scaled
service pointing at ``--force``. One ``minecs up`` serves the module: each test reads or changes
only what it names.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import docker
import pytest
import yaml

from tests.conftest import free_port, remove_test_objects
from tests.integration.processes import Up

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"
TASK_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(autouse=True)
def _remove_labelled_objects_after_test() -> None:
    """Overrides the per-test clean-up: the module's one ``minecs up`` keeps its demo tasks between
    tests, and ``demo`` removes every labelled object when the module ends."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient) -> Iterator[Up]:
    root = tmp_path_factory.mktemp("manners")
    up = Up(root / "minecs", free_port(), "--seed", str(EXAMPLES), log=root / "up.log")
    try:
        up.wait_steady("demo-web")
        yield up
    finally:
        up.stop()
        remove_test_objects(docker_client)


def _ok(up: Up, *args: str) -> subprocess.CompletedProcess[str]:
    done = up.cli(*args)
    assert done.returncode == 0, f"minecs {' '.join(args)}: {done.stderr}"
    return done


def _rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()[1:]]


@pytest.mark.parametrize("kind", ["services", "service", "svc", "SVC"])
def test_get_takes_the_kind_in_every_form(demo: Up, kind: str) -> None:
    assert [row[0] for row in _rows(_ok(demo, "get", kind).stdout)] == ["demo-web"]


def test_get_one_by_name_in_both_spellings(demo: Up) -> None:
    for words in (
        ("get", "svc", "demo-web"),
        ("get", "svc/demo-web"),
        ("get", "service", "demo-web", "-o", "wide"),
    ):
        (row,) = _rows(_ok(demo, *words).stdout)
        assert row[0] == "demo-web"
    (listed,) = _rows(_ok(demo, "get", "td", "demo-web").stdout)
    assert listed[0].startswith("demo-web:")


def test_json_is_valid_and_times_are_iso(demo: Up) -> None:
    done = _ok(demo, "get", "svc", "demo-web", "-o", "json")
    (service,) = json.loads(done.stdout)
    assert datetime.fromisoformat(service["createdAt"]).utcoffset() is not None
    (task, *_) = yaml.safe_load(_ok(demo, "get", "tasks", "-o", "yaml").stdout)
    assert isinstance(task["createdAt"], str)
    assert task["createdAt"].endswith("+00:00")


def test_describe_reads_like_kubectl_times_human_events_newest_last(demo: Up) -> None:
    described = _ok(demo, "describe", "svc", "demo-web").stdout
    assert re.search(r"createdAt: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+[smhd] ago\)", described), described
    shown = described.split("Events:\n")[1].splitlines()
    listed = _ok(demo, "events", "demo-web").stdout.splitlines()
    # Both newest last: the service's events appear in 'minecs events' (which adds its tasks'
    # events) in the same order as in describe.
    messages = [line.split(None, 1)[1] for line in shown]
    remaining = iter(line.split(None, 1)[1] for line in listed if line.strip())
    assert all(message in remaining for message in messages), (messages, listed)
    assert "has reached a steady state." in shown[-1]
    everything = _ok(demo, "describe", "services").stdout
    assert "serviceName: demo-web" in everything


def test_a_task_is_named_by_a_unique_prefix_and_a_stopped_one_shows_no_health(demo: Up) -> None:
    ran = _ok(demo, "run-task", "demo-web", "--enable-execute-command", "--wait")
    (task_id,) = [row[0] for row in _rows(ran.stdout)]
    assert TASK_ID.match(task_id)
    prefix = task_id[:8]
    # exec and logs take the prefix too; exec's command needs no '--'.
    page = _ok(demo, "exec", prefix, "-c", "web", "cat", "/www/index.html")
    assert "minecs demo" in page.stdout
    _ok(demo, "logs", prefix, "-c", "web", "--tail", "5")
    described = _ok(demo, "describe", "task", prefix).stdout
    assert f"taskArn: arn:aws:ecs:us-east-1:000000000000:task/default/{task_id}" in described
    assert "healthStatus" in described
    stopped = _ok(demo, "stop-task", prefix, "--reason", "prefix test")
    assert f"task/{task_id} stopping" in stopped.stdout
    demo.wait_task(task_id, "STOPPED")
    (row,) = _rows(_ok(demo, "get", "task", prefix).stdout)
    assert (row[0], row[2], row[4]) == (task_id, "STOPPED", "-")
    assert "healthStatus" not in _ok(demo, "describe", f"task/{prefix}").stdout
    missing = demo.cli("describe", "task", "zz")
    assert missing.returncode == 1
    assert "no task id starts with 'zz'" in missing.stderr


def test_get_watch_prints_each_change(demo: Up) -> None:
    watching = demo.follow("get", "tasks", "-w")
    try:
        assert watching.stdout is not None
        header = watching.stdout.readline()
        assert header.split()[:3] == ["ID", "TASKDEF", "STATUS"]
        ran = _ok(demo, "run-task", "demo-web")
        (task_id,) = [row[0] for row in _rows(ran.stdout)]
        statuses = []
        for line in watching.stdout:
            cells = line.split()
            if cells and cells[0] == task_id:
                statuses.append(cells[2])
                if cells[2] == "RUNNING":
                    break
        assert statuses[-1] == "RUNNING"
        _ok(demo, "stop-task", task_id)
    finally:
        watching.terminate()
        watching.wait(timeout=10)
        if watching.stdout is not None:
            watching.stdout.close()


def _scaled_demo(tmp_path: Path, count: int) -> Path:
    documents = list(yaml.safe_load_all((EXAMPLES / "demo.yaml").read_text()))
    (service,) = [d for d in documents if d["kind"] == "Service"]
    service["spec"]["desiredCount"] = count
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    return path


def test_diff_and_server_dry_run_say_what_apply_would_change_and_change_nothing(
    demo: Up, tmp_path: Path
) -> None:
    same = demo.cli("diff", "-f", str(EXAMPLES / "demo.yaml"))
    assert (same.returncode, same.stdout) == (0, ""), same.stderr
    scaled = _scaled_demo(tmp_path, 3)
    changed = demo.cli("diff", "-f", str(scaled))
    assert changed.returncode == 1, changed.stderr
    assert "--- live/service/demo-web" in changed.stdout
    assert "-desiredCount: 2" in changed.stdout
    assert "+desiredCount: 3" in changed.stdout
    dry = _ok(demo, "apply", "-f", str(scaled), "--dry-run=server")
    assert "service/demo-web configured (server dry run)" in dry.stdout
    assert "taskdefinition/demo-web unchanged (server dry run)" in dry.stdout
    (row,) = _rows(_ok(demo, "get", "svc", "demo-web").stdout)
    assert row[1] == "2"  # DESIRED: the dry run changed nothing


def test_mistypes_get_the_nearest_word(demo: Up, tmp_path: Path) -> None:
    command = demo.cli("gte", "services")
    assert command.returncode == 2
    assert "did you mean 'get'?" in command.stderr
    kind = demo.cli("get", "servics")
    assert kind.returncode == 2
    assert "did you mean 'services'?" in kind.stderr
    bad = tmp_path / "td.json"
    bad.write_text(
        json.dumps({"family": "typo", "containerDefinitions": [{"name": "a", "imag": "x", "memory": 8}]})
    )
    validated = subprocess.run(
        [sys.executable, "-m", "minecs.cli", "validate", "-f", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert validated.returncode == 1
    assert '"imag" (did you mean "image"?)' in validated.stderr
    # The member the typo left out is still reported.
    assert "containerDefinitions[0].image: Container.image should not be null or empty." in validated.stderr


def test_deleting_a_scaled_service_points_at_force(demo: Up) -> None:
    refused = demo.cli("delete", "svc", "demo-web")
    assert refused.returncode == 1
    assert "The service cannot be stopped while it is scaled above 0." in refused.stderr
    assert "--force" in refused.stderr
    assert demo.service("demo-web") is not None
