"""What ``minecs down`` relies on: the pid file ``minecs up`` keeps, and telling a live process from an exited one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from minecs.cli.down import alive, is_minecs
from minecs.datadir import pid_file, recorded_pid


def test_the_pid_file_holds_the_id_while_up_runs_and_goes_after(tmp_path: Path) -> None:
    with pid_file(tmp_path / "data"):
        assert recorded_pid(tmp_path / "data") == os.getpid()
    assert recorded_pid(tmp_path / "data") is None


def test_a_pid_file_another_process_rewrote_is_left_to_it(tmp_path: Path) -> None:
    with pid_file(tmp_path):
        (tmp_path / "up.pid").write_text("1\n")
    assert recorded_pid(tmp_path) == 1


def test_an_exited_child_not_yet_reaped_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    assert alive(os.getpid())
    while alive(child.pid):
        pass  # it exits at once; until its parent waits for it, it is a zombie
    assert child.wait(timeout=10) == 0
    assert not alive(child.pid)


def test_an_id_of_another_program_is_no_minecs_up() -> None:
    """A killed up's file may name an id the system gave to another program since."""
    other = subprocess.Popen(["sleep", "30"])
    try:
        assert alive(other.pid)
        assert not is_minecs(other.pid)
    finally:
        other.kill()
        other.wait(timeout=10)
