"""The shell blocks of README.md and docs/operations.md as a reader runs them (issue 21, point 3).

``blocks`` reads every ```` ```sh ```` block of a document, in order, keyed by its first command line.
A ``Reader`` runs a block's lines with bash the way a reader on this host would, with what the page
names swapped for what this test made: ``/var/lib/minecs`` is the test's data dir, port 7450 its
controller's port, ``.venv/bin`` and ``$PWD`` the repo's, and the placeholders (``TASK-ID``,
``mcr-...``, the port ``32768``) what an earlier line printed. The environment is a fresh login's:
no ``AWS_*`` or ``MINECS_*`` variable comes from the test's own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO_ROOT, TEST_LABEL_KEY

BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Block:
    source: str
    lines: tuple[str, ...]
    """The block's lines with their continuations joined (a trailing backslash), comments kept."""

    @property
    def key(self) -> str:
        return next(line for line in self.lines if line.strip() and not line.lstrip().startswith("#"))

    def line(self, starts: str) -> str:
        """The one line that begins with ``starts`` (a failure names the block when there is none)."""
        found = [line for line in self.lines if line.startswith(starts)]
        assert len(found) == 1, f"{self.source}: no single line starting {starts!r} in {self.lines}"
        return found[0]


def blocks(document: Path) -> Iterator[Block]:
    for number, match in enumerate(BLOCK.finditer(document.read_text()), start=1):
        joined = re.sub(r"\s*\\\n\s*", " ", match.group(1))
        yield Block(f"{document.name} block {number}", tuple(joined.splitlines()))


def fresh_environment() -> dict[str, str]:
    """The environment of a new login on this host: nothing that points a tool at minecs or AWS."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MINECS_", "BOTO"))}
    return {**kept, "MINECS_LOG_FORMAT": "json"}


@dataclass
class Reader:
    data_dir: Path
    port: int
    filled: dict[str, str] = field(default_factory=dict)
    """Placeholder -> what an earlier line printed (``TASK-ID`` -> a task id)."""
    prelude: str = ""
    """Lines run before each command (a block's ``export``), as one shell session would have them."""

    def text(self, line: str) -> str:
        swaps = {
            **self.filled,
            "/var/lib/minecs/controller": str(self.data_dir),
            "/var/lib/minecs": str(self.data_dir),
            "127.0.0.1:7450": f"127.0.0.1:{self.port}",
            "http://controller:7450": f"http://127.0.0.1:{self.port}",
            "$PWD/.venv/bin": str(Path(sys.executable).parent),
            # The one docker command of the tour acts on this test's containers only.
            "label=com.amazonaws.ecs.container-name=web": (
                f"label=com.amazonaws.ecs.container-name=web --filter label={TEST_LABEL_KEY}=1"
            ),
        }
        for old, new in swaps.items():
            line = line.replace(old, new)
        # The repo's venv, where the page means it (not inside a path already made absolute).
        return re.sub(r"(?<![\w/])\.venv/bin/", f"{Path(sys.executable).parent}/", line)

    def run(
        self, line: str, *, stdin: str | None = None, timeout: float = 240
    ) -> subprocess.CompletedProcess[str]:
        script = f"{self.prelude}\n{self.text(line)}" if self.prelude else self.text(line)
        return subprocess.run(
            ["bash", "-c", script],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=self.environment(),
            timeout=timeout,
            check=False,
        )

    def ok(self, line: str, **options: object) -> subprocess.CompletedProcess[str]:
        done = self.run(line, **options)  # type: ignore[arg-type]
        assert done.returncode == 0, f"{line!r} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done

    def start(self, line: str) -> subprocess.Popen[str]:
        """A line that runs until Ctrl-C (``logs -f``, a daemon): stopped by ``interrupt``."""
        script = f"{self.prelude}\nexec {self.text(line)}" if self.prelude else f"exec {self.text(line)}"
        return subprocess.Popen(
            ["bash", "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO_ROOT,
            env=self.environment(),
            start_new_session=True,
        )

    def environment(self) -> Mapping[str, str]:
        """A fresh login's, with the two defaults a root reader gets on this host standing for the
        test's: the data dir (/var/lib/minecs) and the endpoint (127.0.0.1:7450)."""
        endpoint = f"http://127.0.0.1:{self.port}"
        return {**fresh_environment(), "MINECS_DATA_DIR": str(self.data_dir), "MINECS_ENDPOINT": endpoint}


def interrupt(process: subprocess.Popen[str]) -> int:
    """Ctrl-C, as the reader would press it; killed if it does not end."""
    try:
        return _interrupt(process)
    finally:
        if process.stdout is not None:
            process.stdout.close()


def _interrupt(process: subprocess.Popen[str]) -> int:
    try:
        os.killpg(process.pid, signal.SIGINT)
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait(timeout=30)
    except ProcessLookupError:
        return process.wait(timeout=30)
