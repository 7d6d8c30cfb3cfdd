"""kill -9 loses no acknowledged write: a process group-committing many concurrent writes is killed
mid-stream, and every write it had acknowledged is in the store when it is opened again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from minecs.store.sqlite import SqliteStore

WRITER = """
import asyncio, sys
from pathlib import Path
from minecs.store.sqlite import SqliteStore

async def main() -> None:
    store = await SqliteStore.open(Path(sys.argv[1]))
    async def write(n: int) -> None:
        await store.create("thing", f"k{n}", {"n": n})
        print(n, flush=True)  # only once the write has been acknowledged
    n = 0
    while True:
        await asyncio.gather(*(write(n + i) for i in range(50)))
        n += 50

asyncio.run(main())
"""


def test_every_acknowledged_write_survives_a_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "minecs.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    acknowledged: list[int] = []
    try:
        assert writer.stdout is not None
        deadline = time.monotonic() + 30
        while len(acknowledged) < 500 and time.monotonic() < deadline:
            acknowledged.append(int(writer.stdout.readline()))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        acknowledged += [int(line) for line in writer.stdout.read().split()]
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        if writer.stdout is not None:
            writer.stdout.close()
    assert len(acknowledged) >= 500
    kept = asyncio.run(_kept(path, [f"k{n}" for n in acknowledged]))
    assert sorted(int(k[1:]) for k in kept) == sorted(acknowledged)


async def _kept(path: Path, keys: list[str]) -> list[str]:
    store = await SqliteStore.open(path)
    try:
        return list(await store.get_many("thing", keys))
    finally:
        await store.close()
