"""Summarise a py-spy profile of a benchmark: where one process spends its CPU.

Record a measure with every process it starts, then summarise the one of interest::

    py-spy record --subprocesses --rate 200 --format raw -o /tmp/p.txt -- python -m bench.scaleout
    python -m bench.profiles /tmp/p.txt --process "minecs up"

Only the event loop's thread is summarised (stacks through ``--through``): it holds the GIL for
everything but Docker calls, so its CPU is what bounds the daemon. py-spy leaves out a thread that
waits in ``epoll``, but here it still samples some threads blocked in C (a pool worker waiting for
work, a socket read); stacks ending in those idle frames are dropped. What is left, over the
sampling rate, is the loop's CPU seconds. The summary prints those, the functions that take the most
samples themselves (self), and the minecs/agent functions whose subtrees take the most (inclusive,
each function counted once per sample even when recursive).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]+)(?::\d+)?\)$")
OURS = ("minecs/", "agent/")
IDLE = ("EpollSelector.select", "_worker", "SocketIO.readinto", "Condition.wait", "Event.wait")


@dataclass
class Summary:
    samples: int
    self_time: Counter[str]
    inclusive: Counter[str]

    def lines(self, rate: int, top: int) -> Iterable[str]:
        yield f"{self.samples} samples of the event loop = {self.samples / rate:.1f} CPU s at {rate} Hz"
        yield "self:"
        for name, count in self.self_time.most_common(top):
            yield f"  {100 * count / self.samples:5.1f} %  {name}"
        yield "inclusive (minecs and agent functions):"
        for name, count in self.inclusive.most_common(top):
            yield f"  {100 * count / self.samples:5.1f} %  {name}"


def frame_name(frame: str) -> str:
    matched = _FRAME.match(frame)
    if matched is None:
        return frame
    path = matched["file"]
    for marker in ("site-packages/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{matched['function']} ({path})"


def summarise(lines: Iterable[str], process: str, through: str) -> Summary:
    summary = Summary(0, Counter(), Counter())
    for line in lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        owner = [f for f in frames if f.startswith("process ")]  # a child's stack names its parents too
        if not owner or process not in owner[-1]:
            continue
        count = int(count_text)
        names = [frame_name(f) for f in frames if not f.startswith(("process ", "thread "))]
        if not any(n.startswith(through + " (") for n in names) or names[-1].startswith(IDLE):
            continue
        summary.samples += count
        summary.self_time[names[-1]] += count
        for name in set(names):
            if name.split(" (", 1)[-1].startswith(OURS):
                summary.inclusive[name] += count
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("profile", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--process", default="minecs up", help="a part of the process's command line")
    parser.add_argument("--rate", type=int, default=200, help="the sampling rate given to py-spy")
    parser.add_argument("--through", default="BaseEventLoop._run_once", help="the thread's frame")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    with args.profile.open() as lines:
        summary = summarise(lines, args.process, args.through)
    print("\n".join(summary.lines(args.rate, args.top)))


if __name__ == "__main__":
    main()
