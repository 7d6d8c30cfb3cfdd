"""Every shell block of README.md and docs/operations.md does what its text says (issue 21, point 3).

Each block is run from the page, line by line, on a ``minecs up`` started as ``make up`` starts it
(its recipe read from the Makefile), and checked against what the text around it promises. A block
the tests cannot run here says why in ``NOT_HERE``; a block that is in neither table fails the
coverage test, so a new block cannot go untested.
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from minecs.controlplane.services import is_steady
from tests.conftest import REPO_ROOT, TEST_LABEL_KEY, free_port
from tests.integration.docs import Block, Reader, blocks, interrupt
from tests.integration.processes import AGENT_OPTIONS, Up

README = REPO_ROOT / "README.md"
OPERATIONS = REPO_ROOT / "docs" / "operations.md"

NOT_HERE = {
    "make up": "this test runs the recipe itself (up_like_make_up)",
    "make test": "the suite itself: CI runs it",
    "make unit                                    # fast tests, no Docker needed": (
        "the suite itself; its two named targets are collected by test_the_named_tests_exist"
    ),
    "python3 -m venv /opt/minecs/venv && /opt/minecs/venv/bin/pip install .     # or: --no-index --find-links wheels/": (
        "installs into /opt and needs systemd as PID 1; the units are verified by scripts/verify-units"
    ),
}


def _first_lines() -> list[tuple[Path, Block]]:
    return [(page, block) for page in (README, OPERATIONS) for block in blocks(page)]


def _between(block: Block) -> str:
    return f"{block.source}: {block.key}"


def up_like_make_up(data_dir: Path, port: int, log: Path) -> Up:
    """``minecs up`` with the Makefile's ``up`` recipe, on the test's data dir and ports."""
    recipe = re.search(r"^up:.*\n\t\$\(BIN\)/minecs up (.*)$", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no 'up' recipe running minecs up"
    words = [w for w in shlex.split(recipe.group(1)) if w not in AGENT_OPTIONS]
    return Up(data_dir, port, *words, log=log)


def _column(output: str, header: str, row: Callable[[list[str]], bool] = lambda _: True) -> list[str]:
    """The values of a table column, from the rows ``row`` keeps."""
    lines = [line.split() for line in output.strip().splitlines()]
    at = lines[0].index(header)
    return [cells[at] for cells in lines[1:] if row(cells)]


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[tuple[Reader, Up]]:
    port = free_port()
    up = up_like_make_up(tmp_path / "minecs", port, tmp_path / "up.log")
    try:
        up.wait_steady("demo-web")
        yield Reader(up.data_dir, port), up
    finally:
        up.stop()


def test_every_block_is_run_or_says_why_not() -> None:
    run = set(RUNNERS)
    keys = [block.key for _, block in _first_lines()]
    untested = [key for key in keys if key not in run and key not in NOT_HERE]
    assert not untested, f"blocks no test runs: {untested}"
    stale = [key for key in [*run, *NOT_HERE] if key not in keys]
    assert not stale, f"runners for blocks that are gone: {stale}"


def test_the_named_tests_exist() -> None:
    """The block's two pytest lines name a file and a test that are there (collected, not run)."""
    (block,) = [b for _, b in _first_lines() if b.key.startswith("make unit")]
    lines = [line for line in block.lines if line.startswith(".venv/bin/pytest ")]
    assert len(lines) == 2, block.lines
    for line in lines:
        collect = line.replace(".venv/bin/pytest ", ".venv/bin/pytest --collect-only -q -p no:cacheprovider ")
        done = Reader(Path("/nonexistent"), 0).run(collect)
        assert done.returncode == 0, f"{line}: {done.stdout[-2000:]}"
        assert re.search(r"^\d+ tests? collected", done.stdout, re.M), done.stdout[-2000:]


def tour(reader: Reader, up: Up, block: Block) -> None:
    """The five-minute tour: the demo serves, a removed container is replaced, exec and logs reach a task."""
    reader.prelude = reader.text(block.line("export "))
    services = reader.ok(block.line("minecs get services"))
    assert ["demo-web", "2", "2", "0", "COMPLETED"] in [
        line.split()[:5] for line in services.stdout.splitlines()
    ]
    wide = reader.ok(block.line("minecs get tasks -o wide")).stdout
    ports = re.findall(r"127\.0\.0\.1:(\d+)->8080", wide)
    assert ports, wide
    reader.filled["32768"] = ports[0]
    assert "<h1>minecs demo</h1>" in reader.ok(block.line("curl ")).stdout
    reader.ok(block.line("docker rm -f "))
    up.wait_service(
        "demo-web", lambda s: is_steady(s) and any("has started 1 tasks" in e["message"] for e in s["events"])
    )
    events = reader.ok(block.line("minecs events")).stdout
    assert "has started 1 tasks" in events, events
    assert "demo-web" in reader.ok(block.line("minecs scale demo-web 3")).stdout
    ran = reader.ok(block.line("minecs run-task demo-web")).stdout
    reader.filled["TASK-ID"] = _column(ran, "ID")[0]
    follow = reader.start(block.line("minecs logs TASK-ID"))
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline().strip(), "logs -f printed nothing"
    finally:
        interrupt(follow)
    shell = reader.ok(block.line("minecs exec TASK-ID"), stdin="echo exec-reached-$((6*7)); exit\n")
    assert "exec-reached-42" in shell.stdout, shell.stdout


def validate(reader: Reader, up: Up, block: Block) -> None:
    reader.ok(block.line(".venv/bin/minecs validate -f manifests/examples "))
    normalised = reader.ok(block.line(".venv/bin/minecs validate -f manifests/examples/ecs-json/web.json"))
    assert json.loads(normalised.stdout)
    broken = reader.run(block.line(".venv/bin/minecs validate -f manifests/invalid"))
    assert broken.returncode == 1
    assert re.search(r"^ERROR .+:doc#\d+: .+ \(\w+\)$", broken.stdout + broken.stderr, re.M), broken


def objects(reader: Reader, up: Up, block: Block) -> None:
    """apply, get, describe, events, run-task, logs, exec, stop-task, scale, delete: each does its job."""
    assert (
        "all services steady" in reader.ok(block.line(".venv/bin/minecs apply -f manifests/examples")).stdout
    )
    assert "demo-web" in reader.ok(block.line(".venv/bin/minecs get services -o wide")).stdout
    described = reader.ok(block.line(".venv/bin/minecs describe service demo-web")).stdout
    assert "Deployments:" in described
    assert "Events:" in described
    reader.ok(block.line(".venv/bin/minecs events "))
    ran = reader.ok(block.line(".venv/bin/minecs run-task demo-web")).stdout
    tasks = _column(ran, "ID")
    assert len(tasks) == 2, ran
    reader.filled["TASK-ID"] = tasks[0]
    follow = reader.start(block.line(".venv/bin/minecs logs TASK-ID"))
    interrupt(follow)
    shell = reader.ok(block.line(".venv/bin/minecs exec TASK-ID"), stdin="echo in-web; exit\n")
    assert "in-web" in shell.stdout
    assert "stopping" in reader.ok(block.line(".venv/bin/minecs stop-task TASK-ID")).stdout
    assert "scaled to 0" in reader.ok(block.line(".venv/bin/minecs scale demo-web 0")).stdout
    deleted = reader.ok(block.line(".venv/bin/minecs delete -f manifests/examples")).stdout
    assert "service/demo-web deleted" in deleted


def manners(reader: Reader, up: Up, block: Block) -> None:
    """kubectl's and docker's habits: kinds, KIND/NAME, -w, prefixes, diff, dry run, rollout, logs."""
    # The block before deleted the demo; what make up created comes back first.
    reader.ok(".venv/bin/minecs apply -f manifests/examples --wait")
    assert "demo-web" in reader.ok(block.line(".venv/bin/minecs get svc ")).stdout
    (service,) = json.loads(reader.ok(block.line(".venv/bin/minecs get svc/demo-web")).stdout)
    assert service["serviceName"] == "demo-web"
    watching = reader.start(block.line(".venv/bin/minecs get tasks -w"))
    assert watching.stdout is not None
    assert watching.stdout.readline().split()[0] == "ID"
    interrupt(watching)
    task = up.live("family:demo-web")[0]["taskArn"].rsplit("/", 1)[-1]
    reader.filled["3f2a"] = task[:6]
    assert task in reader.ok(block.line(".venv/bin/minecs describe task")).stdout
    same = reader.run(block.line(".venv/bin/minecs diff -f"))
    assert (same.returncode, same.stdout) == (0, ""), same
    dry = reader.ok(block.line(".venv/bin/minecs apply -f manifests/examples --dry-run=server")).stdout
    assert "service/demo-web unchanged (server dry run)" in dry
    _new_demo_revision(reader)
    status = reader.ok(block.line(".venv/bin/minecs rollout status"), timeout=300)
    assert "successfully rolled out" in status.stdout + status.stderr
    history = reader.ok(block.line(".venv/bin/minecs rollout history")).stdout
    assert "demo-web:" in history
    undone = reader.ok(block.line(".venv/bin/minecs rollout undo")).stdout
    assert "rolled back to demo-web:" in undone
    merged = reader.start(block.line(".venv/bin/minecs logs -f service/demo-web"))
    assert merged.stdout is not None
    first = merged.stdout.readline()  # the log sidecar prints the date at once
    assert re.match(r"^[0-9a-f]{8} \| ", first), first
    assert interrupt(merged) == 130


def _new_demo_revision(reader: Reader) -> None:
    """A revision 2 of demo-web, as a user's edit and apply makes one."""
    spec = reader.data_dir.parent / "demo-v2.yaml"
    text = (REPO_ROOT / "manifests" / "examples" / "demo.yaml").read_text()
    spec.write_text(text.replace("echo '<h1>minecs demo</h1>'", "echo '<h1>minecs demo v2</h1>'"))
    assert "configured" in reader.ok(f".venv/bin/minecs apply -f {spec}").stdout


def aws_cli(reader: Reader, up: Up, block: Block) -> None:
    """The aws CLI with aws.env sourced and no --endpoint-url: register, run, wait, a stable service."""
    script = "\n".join(["set -e", *block.lines])
    reader.ok(script.replace("aws ecs", f"{Path(sys.executable).with_name('aws')} ecs"), timeout=400)
    up.wait_steady("web")


def fargate(reader: Reader, up: Up, block: Block) -> None:
    aws = f"{Path(sys.executable).with_name('aws')} ecs"
    reader.prelude = f". {reader.data_dir}/aws.env"
    script = "\n".join(["set -e", *block.lines]).replace("aws ecs", aws)
    ran = reader.ok(script)
    assert '"launchType": "FARGATE"' in ran.stdout, ran.stdout


def backup(reader: Reader, up: Up, block: Block) -> None:
    """Both backup commands write a copy of the live store that opens, with its tables."""
    copies = reader.data_dir.parent / "backup"
    reader.ok("\n".join(["set -e", *block.lines]).replace("/backup", str(copies)))
    made = sorted(copies.iterdir())
    assert len(made) == 2, made
    for copy in made:
        tables = sqlite3.connect(copy).execute("select name from sqlite_master where type='table'").fetchall()
        assert tables, copy


def edge_host(reader: Reader, up: Up, block: Block) -> None:
    """The controller's token, then install-agent with it (its --dry-run: this host is no edge host)."""
    token = reader.ok(
        block.line("/opt/minecs/venv/bin/minecs token create").replace("/opt/minecs/venv/bin/", ".venv/bin/")
    )
    reader.filled["mcr-..."] = token.stdout.strip()
    assert reader.filled["mcr-..."].startswith("mcr-")
    planned = reader.ok(block.line("scripts/install-agent") + " --dry-run")
    assert reader.filled["mcr-..."] not in planned.stdout, "the dry run printed the token"


def prometheus(reader: Reader, up: Up, block: Block) -> None:
    """The scrape config loads and Prometheus serves (on a free port; its data in the test's dir)."""
    port = free_port()
    reader.filled["127.0.0.1:9090"] = f"127.0.0.1:{port}"
    reader.filled["/tmp/minecs-prometheus"] = str(reader.data_dir.parent / "prometheus")
    tools = REPO_ROOT / ".cache" / "prometheus" / "usr" / "bin"
    reader.prelude = f"export PATH={tools}:$PATH"
    server = reader.start(block.lines[0])
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "Server is ready to receive web requests" in line:
                break
        else:
            raise AssertionError("prometheus ended before it was ready")
    finally:
        interrupt(server)


def daemons(reader: Reader, up: Up, block: Block) -> None:
    """Line 1 is make up's daemon (running); a controller alone serves; a token is made for an agent."""
    other = reader.data_dir.parent / "controller"
    port = free_port()
    line = (
        block.line(".venv/bin/minecs controller").replace("0.0.0.0", "127.0.0.1").replace("7450", str(port))
    )
    controller = reader.start(f"env MINECS_DATA_DIR={other} {line}")
    try:
        up.wait((other / "aws.env").exists, 30, "the second controller serving")
    finally:
        assert interrupt(controller) == 0
    token = reader.ok(block.line(".venv/bin/minecs token create")).stdout.strip()
    assert token.startswith("mcr-"), token


def static_tasks(reader: Reader, up: Up, block: Block) -> None:
    """agent-static on the shipped example: its task runs (the test's containers carry its label)."""
    line = reader.text(block.lines[0]) + f" --label {TEST_LABEL_KEY}=1"
    agent = reader.start(line)
    try:
        assert agent.stdout is not None
        for said in agent.stdout:
            if said.startswith("{") and json.loads(said).get("lastStatus") == "RUNNING":
                break
        else:
            raise AssertionError("agent-static ended before its task ran")
    finally:
        interrupt(agent)


def second_agent(reader: Reader, up: Up, block: Block) -> None:
    """A token, a second agent beside make up's on its own data dir and ports, which it logs in one
    line, and its introspection API naming a container instance of its own."""
    local = {"/opt/minecs/venv/bin/": ".venv/bin/"}
    ports = {port: str(free_port()) for port in ("51688", "51689", "51690")}
    token = reader.ok(_swapped(block.line("/opt/minecs/venv/bin/minecs token create"), local))
    reader.filled = {**ports, "mcr-...": token.stdout.strip()}
    assert reader.filled["mcr-..."].startswith("mcr-"), token.stdout
    agent = reader.start(
        _swapped(block.line("/opt/minecs/venv/bin/minecs agent "), local) + " " + shlex.join(AGENT_OPTIONS)
    )
    try:
        assert agent.stdout is not None
        for line in agent.stdout:
            if '"agent listening"' in line:
                listening = json.loads(line)
                break
        else:
            raise AssertionError("the second agent ended before it listened")
        assert (listening["metadata"], listening["introspection"], listening["metrics"]) == (
            f"http://127.0.0.1:{ports['51689']}",
            f"http://127.0.0.1:{ports['51688']}",
            f"http://127.0.0.1:{ports['51690']}/metrics",
        )
        own = json.loads(reader.ok(block.line("curl ")).stdout)["ContainerInstanceArn"]
        arns = {i["containerInstanceArn"] for i in up.instances()}
        assert own in arns, (own, arns)
        assert len(arns) == 2, arns
    finally:
        assert interrupt(agent) == 0


def _swapped(line: str, swaps: dict[str, str]) -> str:
    for old, new in swaps.items():
        line = line.replace(old, new)
    return line


RUNNERS: dict[str, Callable[[Reader, Up, Block], None]] = {
    "export PATH=$PWD/.venv/bin:$PATH MINECS_DATA_DIR=/var/lib/minecs": tour,
    ".venv/bin/minecs validate -f manifests/examples            # a directory, a file, or - for stdin": validate,
    ".venv/bin/minecs apply -f manifests/examples --wait   # declarative; progress, fails with the reason": objects,
    ".venv/bin/minecs get svc                              # kinds singular, plural or short (svc, td, ci)": manners,
    ". /var/lib/minecs/aws.env       # AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE, AWS_ENDPOINT_URL_ECS": aws_cli,
    "aws ecs register-task-definition --cli-input-json file://manifests/examples/ecs-json/small.json": fargate,
    "DATA=/var/lib/minecs            # minecs-controller.service: DATA=/var/lib/minecs/controller": backup,
    "cp systemd/minecs-controller.service /etc/systemd/system/ && systemctl enable --now minecs-controller": edge_host,
    "prometheus --config.file=manifests/prometheus/prometheus.yml --storage.tsdb.path=/tmp/minecs-prometheus "
    "--web.listen-address=127.0.0.1:9090     # scrapes a controller and its agent; http://127.0.0.1:9090": prometheus,
    ".venv/bin/minecs up --publish-address 127.0.0.1          # controller + agent on this host, 127.0.0.1:7450": daemons,
    ".venv/bin/minecs agent-static --tasks manifests/static --data-dir /var/lib/minecs-static "
    "--publish-address 127.0.0.1 --pull-behavior prefer-cached": static_tasks,
    "/opt/minecs/venv/bin/minecs token create --data-dir /var/lib/minecs   # on the controller; prints mcr-...": (
        second_agent
    ),
}


def test_the_readme_blocks_do_what_the_text_says(reader: tuple[Reader, Up]) -> None:
    shell, up = reader
    for _, block in _first_lines():
        runner = RUNNERS.get(block.key)
        if runner is not None:
            shell.prelude, shell.filled = "", {}
            runner(shell, up, block)
