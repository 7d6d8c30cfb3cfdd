"""How the CLI shows objects: kubectl-style tables (``table`` and ``wide``), JSON, YAML, and describe.

Columns are data (``COLUMNS``): a header, how to read the value, and whether only ``-o wide`` shows
it. Objects arrive in their ECS shapes, so the same code shows what the native API and, later, the
ECS front end return.

Times: every member named ``...At`` holding epoch seconds is shown as ISO 8601 in ``-o json`` and
``-o yaml`` (as the aws CLI prints them) and as ``2026-12-03 08:10:11 UTC (5m ago)`` in
``describe``. A STOPPED task has no health: its HEALTH column says ``-`` and ``describe`` leaves
the member out. Events read newest last everywhere, as ``kubectl describe`` and ``minecs events``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Mapping[str, Any]], object]
    wide: bool = False


def _short(arn: object) -> str:
    return str(arn or "").rsplit("/", 1)[-1]


def age(epoch: object, now: float | None = None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``: the age kubectl prints."""
    if not isinstance(epoch, int | float):
        return "-"
    seconds = max(0, int((now or time.time()) - epoch))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _ports(task: Mapping[str, Any]) -> str:
    bindings = [b for c in task.get("containers", []) for b in c.get("networkBindings", [])]
    return ",".join(f"{b.get('bindIP', '')}:{b['hostPort']}->{b['containerPort']}" for b in bindings) or "-"


def _resource(instance: Mapping[str, Any], which: str, name: str) -> object:
    return next((r.get("integerValue") for r in instance.get(which, []) if r["name"] == name), "-")


COLUMNS: dict[str, list[Column]] = {
    "clusters": [
        Column("NAME", lambda c: c["clusterName"]),
        Column("STATUS", lambda c: c["status"]),
        Column("ARN", lambda c: c["clusterArn"], wide=True),
    ],
    "taskdefs": [
        Column("NAME", _short),
        Column("ARN", lambda arn: arn, wide=True),
    ],
    "tasks": [
        Column("ID", lambda t: _short(t["taskArn"])),
        Column("TASKDEF", lambda t: _short(t["taskDefinitionArn"])),
        Column("STATUS", lambda t: t["lastStatus"]),
        Column("DESIRED", lambda t: t["desiredStatus"]),
        Column("HEALTH", lambda t: "-" if t["lastStatus"] == "STOPPED" else t.get("healthStatus", "UNKNOWN")),
        Column("GROUP", lambda t: t.get("group", "")),
        Column("AGE", lambda t: age(t.get("createdAt"))),
        Column("INSTANCE", lambda t: _short(t.get("containerInstanceArn")) or "-", wide=True),
        Column("PORTS", _ports, wide=True),
        Column("STARTED-BY", lambda t: t.get("startedBy") or "-", wide=True),
        Column("STOPPED-REASON", lambda t: t.get("stoppedReason") or "-", wide=True),
    ],
    "services": [
        Column("NAME", lambda s: s["serviceName"]),
        Column("DESIRED", lambda s: s["desiredCount"]),
        Column("RUNNING", lambda s: s["runningCount"]),
        Column("PENDING", lambda s: s["pendingCount"]),
        Column("ROLLOUT", lambda s: s["deployments"][0].get("rolloutState", "") if s["deployments"] else "-"),
        Column("TASKDEF", lambda s: _short(s["taskDefinition"]), wide=True),
        Column("STRATEGY", lambda s: s.get("schedulingStrategy", "REPLICA"), wide=True),
        Column("STATUS", lambda s: s["status"], wide=True),
        Column("DEPLOYMENTS", lambda s: len(s["deployments"]), wide=True),
        Column("AGE", lambda s: age(s.get("createdAt")), wide=True),
    ],
    "instances": [
        Column("ID", lambda i: i["instanceId"]),
        Column("CONNECTED", lambda i: str(i["agentConnected"]).lower()),
        Column("STATUS", lambda i: i["status"]),
        Column("AGENT", lambda i: i.get("versionInfo", {}).get("agentVersion", "")),
        Column("CPU-FREE", lambda i: _resource(i, "remainingResources", "CPU"), wide=True),
        Column("MEMORY-FREE", lambda i: _resource(i, "remainingResources", "MEMORY"), wide=True),
        Column("DOCKER", lambda i: i.get("versionInfo", {}).get("dockerVersion", ""), wide=True),
    ],
}


def rows(kind: str, items: list[Any], *, wide: bool = False) -> list[list[str]]:
    """The header row, then one row of cells per item."""
    columns = [c for c in COLUMNS[kind] if wide or not c.wide]
    return [[c.header for c in columns]] + [[str(c.value(item)) for c in columns] for item in items]


def aligned(cells: list[list[str]], widths: list[int]) -> list[str]:
    return ["   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]


def widths_of(cells: list[list[str]]) -> list[int]:
    return [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]


def table(kind: str, items: list[Any], *, wide: bool = False) -> str:
    cells = rows(kind, items, wide=wide)
    return "\n".join(aligned(cells, widths_of(cells)))


def _is_time(key: object, value: object) -> bool:
    return (
        isinstance(key, str)
        and key.endswith("At")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    )


def iso_times(value: Any) -> Any:
    """``value`` with every ``...At`` epoch as ISO 8601 (``2026-12-03T08:10:11.123000+00:00``)."""
    if isinstance(value, list):
        return [iso_times(v) for v in value]
    if isinstance(value, dict):
        return {
            k: datetime.fromtimestamp(v, UTC).isoformat() if _is_time(k, v) else iso_times(v)
            for k, v in value.items()
        }
    return value


def human_times(value: Any, now: float | None = None) -> Any:
    """``value`` with every ``...At`` epoch as ``2026-12-03 08:10:11 UTC (5m ago)``."""
    if isinstance(value, list):
        return [human_times(v, now) for v in value]
    if isinstance(value, dict):
        return {k: _human(v, now) if _is_time(k, v) else human_times(v, now) for k, v in value.items()}
    return value


def _human(epoch: float, now: float | None) -> str:
    return f"{datetime.fromtimestamp(epoch, UTC):%Y-%m-%d %H:%M:%S} UTC ({age(epoch, now)} ago)"


def render(kind: str, items: list[Any], output: str) -> str:
    if output == "json":
        return json.dumps(iso_times(items), indent=2)
    if output == "yaml":
        return yaml.safe_dump(iso_times(items), sort_keys=False).rstrip()
    return table(kind, items, wide=output == "wide")


def _without_health(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A STOPPED task shows no health: neither its own nor its containers'."""
    if obj.get("lastStatus") != "STOPPED" or "taskArn" not in obj:
        return dict(obj)
    kept = {k: v for k, v in obj.items() if k != "healthStatus"}
    if "containers" in kept:
        kept["containers"] = [{k: v for k, v in c.items() if k != "healthStatus"} for c in kept["containers"]]
    return kept


def describe(obj: Mapping[str, Any], now: float | None = None) -> str:
    """The object as YAML with readable times, then (for a service) its deployments and its
    newest 20 events, newest last."""
    body = human_times(
        {k: v for k, v in _without_health(obj).items() if k not in ("events", "deployments")}, now
    )
    parts = [yaml.safe_dump(body, sort_keys=False).rstrip()]
    if "deployments" in obj:
        lines = [
            f"  {d['id']}  {d['status']:<8} {d.get('rolloutState', ''):<12} {_short(d['taskDefinition']):<24} "
            f"desired={d['desiredCount']} running={d['runningCount']} pending={d['pendingCount']} "
            f"failed={d.get('failedTasks', 0)}"
            for d in obj["deployments"]
        ]
        parts.append("Deployments:\n" + ("\n".join(lines) or "  <none>"))
    if "events" in obj:
        # The API lists events newest first, as ECS does; a terminal reads them newest last.
        parts.append("Events:\n" + events_table(list(reversed(obj["events"][:20])), indent="  "))
    return "\n".join(parts)


def events_table(events: list[Mapping[str, Any]], *, indent: str = "", service: bool = False) -> str:
    if not events:
        return f"{indent}<none>"
    lines = []
    for event in events:
        where = f"{event.get('serviceName') or '-'}  " if service else ""
        lines.append(f"{indent}{age(event.get('createdAt')):>4}  {where}{event['message']}")
    return "\n".join(lines)
