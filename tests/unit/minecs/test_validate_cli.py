"""``minecs validate``: summaries, ECS JSON output, every error with its place, and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from minecs.cli.validate import run_validate
from tests.conftest import REPO_ROOT
from tests.taskdefs import taskdef

EXAMPLES = REPO_ROOT / "manifests" / "examples"


def run(paths: list[str], output: str = "summary", stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_validate(paths, output, io.StringIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_directory_of_examples_is_valid_with_one_line_per_object() -> None:
    code, out, err = run([str(EXAMPLES)])
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 7
    assert f"Service/demo-web  valid  (taskDefinition demo-web)  {EXAMPLES}/demo.yaml:doc#3" in lines


def test_json_output_is_the_normalised_ecs_body(tmp_path: Path) -> None:
    path = tmp_path / "td.json"
    path.write_text(json.dumps(taskdef(cpu="1 vCPU")))
    code, out, _ = run([str(path)], "json")
    assert code == 0
    body = json.loads(out)
    assert (body["family"], body["cpu"], body["networkMode"]) == ("web", "1024", "bridge")
    assert body["containerDefinitions"][0]["essential"] is True


def test_errors_name_file_document_path_and_code(tmp_path: Path) -> None:
    good = tmp_path / "a-good.json"
    good.write_text(json.dumps(taskdef()))
    bad = tmp_path / "b-bad.yaml"
    bad.write_text(
        "apiVersion: minecs.dev/v1\nkind: TaskDefinition\nmetadata: {name: x}\nspec:\n  containerDefinitions: []\n"
    )
    code, out, err = run([str(tmp_path)])
    assert code == 1
    assert out.startswith("TaskDefinition/web  valid")
    assert (
        f"ERROR {bad}:doc#1: spec.containerDefinitions: Container list cannot be empty. (ClientException)"
        in err
    )
    assert err.rstrip().endswith("1 problem(s) found; 1 valid object(s).")


def test_stdin_and_missing_files() -> None:
    code, out, _ = run(["-"], stdin=json.dumps(taskdef()))
    assert code == 0
    assert out.rstrip().endswith("<stdin>:doc#1")
    code, _, err = run(["/nonexistent/td.yaml"])
    assert code == 1
    assert "ERROR /nonexistent/td.yaml: cannot read file:" in err


def test_nothing_to_validate_is_a_failure(tmp_path: Path) -> None:
    code, _, err = run([str(tmp_path)])
    assert code == 1
    assert "no objects found" in err


@pytest.mark.parametrize(("target", "status"), [("examples", 0), ("invalid", 1)])
def test_the_console_command(target: str, status: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "minecs.cli", "validate", "-f", str(REPO_ROOT / "manifests" / target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == status, done.stderr
    if status:
        assert "Cannot depend on container + 'db' because it does not exist (ClientException)" in done.stderr
