"""How the CLI shows objects: kubectl-style tables (``table`` and ``wide``), JSON, YAML, and describe.

Columns are data (``COLUMNS``): a header, how to read the value, and whether only ``-o wide`` shows
it. Objects arrive in their ECS shapes, so the same code shows what the native API and, later, the
ECS front end return.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
        Column("HEALTH", lambda t: t.get("healthStatus", "UNKNOWN")),
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


def table(kind: str, items: list[Any], *, wide: bool = False) -> str:
    columns = [c for c in COLUMNS[kind] if wide or not c.wide]
    rows = [[c.header for c in columns]] + [[str(c.value(item)) for c in columns] for item in items]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join(
        "   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def render(kind: str, items: list[Any], output: str) -> str:
    if output == "json":
        return json.dumps(items, indent=2)
    if output == "yaml":
        return yaml.safe_dump(items, sort_keys=False).rstrip()
    return table(kind, items, wide=output == "wide")


def describe(obj: Mapping[str, Any]) -> str:
    """The object as YAML, then (for a service) its deployments and events, newest event first."""
    body = {k: v for k, v in obj.items() if k not in ("events", "deployments")}
    parts = [yaml.safe_dump(body, sort_keys=False).rstrip()]
    if "deployments" in obj:
        rows = [
            f"  {d['id']}  {d['status']:<8} {d.get('rolloutState', ''):<12} {_short(d['taskDefinition']):<24} "
            f"desired={d['desiredCount']} running={d['runningCount']} pending={d['pendingCount']} "
            f"failed={d.get('failedTasks', 0)}"
            for d in obj["deployments"]
        ]
        parts.append("Deployments:\n" + ("\n".join(rows) or "  <none>"))
    if "events" in obj:
        parts.append("Events:\n" + events_table(obj["events"][:20], indent="  "))
    return "\n".join(parts)


def events_table(events: list[Mapping[str, Any]], *, indent: str = "", service: bool = False) -> str:
    if not events:
        return f"{indent}<none>"
    lines = []
    for event in events:
        where = f"{event.get('serviceName') or '-'}  " if service else ""
        lines.append(f"{indent}{age(event.get('createdAt')):>4}  {where}{event['message']}")
    return "\n".join(lines)
