"""Which ECS task definition members minecs honours, accepts and ignores, or refuses.

A user bringing ECS task definitions needs to know, member by member, what minecs does with them.
The answer is a table, ``TABLE``, keyed by JSON path: ``cpu``, ``containerDefinitions[].healthCheck``,
``volumes[].efsVolumeConfiguration``; its rows are written in ``minecs.model.supporttable`` (task
and volume) and ``minecs.model.supportcontainer`` (container definition). ``member_paths`` walks the
model from ``TaskDefinitionSpec`` with the codec's own member names, so a member added to
the model shows up here; ``render_markdown`` writes ``docs/task-definition-support.md``, ending with
how launch types and capacity providers map onto a minecs host (``minecs.model.supportlaunch``).

Design decision: the table is data, the document is generated from it, and a test keeps model,
table and document in step (every model path covered, no stale path, the doc equal to the
rendering, every refusal proven against validation). Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from minecs.model.codec import join, members
from minecs.model.supportcontainer import CONTAINER
from minecs.model.supportlaunch import LAUNCH_SECTION
from minecs.model.supporttable import TASK, VOLUME, Entry, Support
from minecs.model.taskdef import TaskDefinitionSpec

__all__ = ["TABLE", "Entry", "Support", "ancestors", "covering", "member_paths", "render_markdown"]

TABLE: Mapping[str, Entry] = {
    **TASK,
    **{"containerDefinitions[]." + path: entry for path, entry in CONTAINER.items()},
    **{"volumes[]." + path: entry for path, entry in VOLUME.items()},
}
"""Every row, keyed by its full JSON path."""

SECTIONS = (
    ("Task level", ""),
    ("Container definition: `containerDefinitions[]`", "containerDefinitions[]."),
    ("Volume: `volumes[]`", "volumes[]."),
)

REGENERATE = (
    '.venv/bin/python -c "from minecs.model.support import render_markdown; '
    "print(render_markdown(), end='')\" > docs/task-definition-support.md"
)


def _nested(hint: Any) -> tuple[type[Any] | None, bool]:
    """The dataclass a member holds (None for a scalar, enum or map) and whether it holds a list."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    repeated = typing.get_origin(hint) is tuple
    if repeated:
        hint = typing.get_args(hint)[0]
    return (hint if dataclasses.is_dataclass(hint) else None), repeated  # type: ignore[return-value]


def member_paths(cls: type[Any] = TaskDefinitionSpec, prefix: str = "") -> list[str]:
    """Every member's JSON path, in model order; a list's members are under ``<name>[]``."""
    paths: list[str] = []
    for m in members(cls):
        path = join(prefix, m.json)
        paths.append(path)
        struct, repeated = _nested(m.hint)
        if struct is not None:
            paths += member_paths(struct, path + "[]" if repeated else path)
    return paths


def ancestors(path: str) -> Iterator[str]:
    """The paths ``path`` is nested in, nearest first: ``a[].b.c`` -> ``a[].b``, ``a``."""
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        yield ".".join(parts[:end]).removesuffix("[]")


def covering(path: str) -> tuple[str, Entry] | None:
    """The row that answers for ``path``: its own, or an enclosing one that stands for the whole struct."""
    if path in TABLE:
        return path, TABLE[path]
    for parent in ancestors(path):
        entry = TABLE.get(parent)
        if entry is not None and entry.whole:
            return parent, entry
    return None


def render_markdown() -> str:
    """The text of ``docs/task-definition-support.md``."""
    rows = [path for path in member_paths() if path in TABLE]
    out = [_intro(rows)]
    for title, prefix in SECTIONS:
        mine = [p for p in rows if _section(p) == prefix]
        out += [f"## {title}", "", "| member | support | how / why |", "|---|---|---|"]
        out += [_row(p.removeprefix(prefix), TABLE[p]) for p in mine]
        out.append("")
    return "\n".join([*out, _WHERE_RULES_RUN, LAUNCH_SECTION]).rstrip("\n") + "\n"


RULES_BY_CALL = (
    (
        "no container, no name, no image, no memory or memoryReservation without task memory",
        "registration",
        "ECS's (`Container list cannot be empty.`, `Container.name should not be null or empty.`, ...)",
    ),
    (
        "dependsOn names an unknown container; SUCCESS/COMPLETE on an essential one; a links cycle",
        "registration",
        "ECS's",
    ),
    ("host or awsvpc port mappings with different host and container ports", "registration", "ECS's"),
    ("a proxyConfiguration property without a value", "registration", "ECS's"),
    (
        "a HEALTHY dependency on a container without a healthCheck",
        "run time (the agent stops the task)",
        "the agent's `dependency graph` message",
    ),
    ("which container proxyConfiguration names", "not checked (ECS does not refuse it at registration)", ""),
    (
        "name and family patterns, ranges (healthCheck, restartPolicy, swappiness, ports, task cpu), limits "
        "(10 containers, 10 environmentFiles, 50 tags), memory and cpu sums",
        "registration, as ECS documents them",
        "ours: no source gives ECS's sentence",
    ),
    (
        "unknown links and volumesFrom sources, dependsOn cycles, duplicate static host ports, ulimits, "
        "capabilities",
        "registration (perhaps stricter than ECS: each would fail the task at run time)",
        "the ECS agent's, or ours",
    ),
)
"""(rule, where minecs checks it, whose words): the review of issue 16, kept beside the table."""

_WHERE_RULES_RUN = (
    """## Which rules RegisterTaskDefinition checks, and in whose words

`minecs/validation` checks at registration only what ECS refuses at registration; the rest waits
for run time, where ECS's agent finds it too. The ECS front end answers a refusal with ECS's
sentence alone, the first problem found (containers in order, each one completely); `minecs
validate`, `minecs apply` and the native API list every problem with its member path.

| rule | where | words |
|---|---|---|
"""
    + "\n".join(f"| {rule} | {where} | {words} |" for rule, where, words in RULES_BY_CALL)
    + "\n"
)


def _section(path: str) -> str:
    return next((prefix for _, prefix in SECTIONS[1:] if path.startswith(prefix)), "")


def _row(member: str, entry: Entry) -> str:
    name = f"`{member}` (all members)" if entry.whole else f"`{member}`"
    note = entry.note.replace("|", "\\|")
    return f"| {name} | {entry.support.value} | {note} |"


def _intro(rows: list[str]) -> str:
    counts = Counter(TABLE[p].support for p in rows)
    summary = "; ".join(f"{s.value}: {counts[s]}" for s in Support)
    return f"""# Task definition support

What minecs does with each member of an ECS task definition (`RegisterTaskDefinition`):

* **{Support.HONOURED.value}**: the agent or the controller acts on it as ECS does; the note says how
  and where, and where minecs differs (a local secret store instead of AWS, emulated awsvpc, ...);
* **{Support.IGNORED.value}**: it is validated, stored and echoed by DescribeTaskDefinition, but
  nothing acts on it; the note says why and what to do instead;
* **{Support.REFUSED.value}**: registration fails with the error named in the note.

A row marked "(all members)" answers for the member and everything nested in it. An honoured
member can still be refused with a value ECS refuses (a `hostname` with awsvpc, say): those rules
are ECS's own. A member the request does not have is refused (`Unknown parameter in ...`); that
includes the read-only members registration adds (`taskDefinitionArn`, `revision`, `status`,
`requiresAttributes`, `compatibilities`, `registeredAt`, ...), which `minecs validate` and `minecs
apply` drop when they read describe-task-definition output.

{len(rows)} rows ({summary}).

This file is generated from the table in `minecs/model/supporttable.py`; after changing the table,
regenerate it with

```sh
{REGENERATE}
```
"""
