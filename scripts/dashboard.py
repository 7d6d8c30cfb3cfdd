"""Write the Grafana dashboard, manifests/grafana/minecs-container-insights.json, from the table in
scripts/dashboard_panels.py.

    .venv/bin/python scripts/dashboard.py > manifests/grafana/minecs-container-insights.json

The panels are data (title, unit, PromQL per series) so the JSON stays consistent: every panel reads
the `datasource` variable and filters by the `cluster`, `service`, `family` and `task` variables.
`tests/unit/test_dashboard.py` checks the JSON is this script's output, and
`tests/integration/test_prometheus.py` runs every expression in it against a real Prometheus
scraping a live `minecs up` and asserts each returns data, so the dashboard and the metrics cannot
drift apart. Container Insights' units: CPU in CPU units (`rate x 1024`), memory in MiB, rates per second.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

Panel = tuple[str, str, str, list[tuple[str, str]], int]  # title, kind, unit, (legend, expr)s, width

# The table is loaded by path, not imported: this script runs as a file (`python scripts/dashboard.py`,
# `runpy.run_path` in the tests), so scripts/ is no package and need not be on sys.path.
_TABLE = runpy.run_path(str(Path(__file__).with_name("dashboard_panels.py")))
ROWS: list[tuple[str, list[Panel]]] = _TABLE["ROWS"]
VARIABLES: list[tuple[str, str, str]] = _TABLE["VARIABLES"]

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panel(panel_id: int, spec: Panel, x: int, y: int) -> dict[str, Any]:
    title, kind, unit, series, width = spec
    panel: dict[str, Any] = {
        "id": panel_id,
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (legend, expr) in enumerate(series)
        ],
    }
    if kind == "table":
        panel["targets"][0]["instant"] = True
        panel["targets"][0]["format"] = "table"
    return panel


def _panels() -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    y = 0
    next_id = 1
    for row_title, row_panels in ROWS:
        panels.append(
            {
                "id": next_id,
                "type": "row",
                "title": row_title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        x = 0
        for spec in row_panels:
            width = spec[4]
            if x + width > 24:
                x, y = 0, y + 8
            panels.append(_panel(next_id, spec, x, y))
            next_id += 1
            x += width
        y += 8
    return panels


def _templating() -> list[dict[str, Any]]:
    templating = [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
        }
    ]
    for name, label, query in VARIABLES:
        templating.append(
            {
                "name": name,
                "label": label,
                "type": "query",
                "datasource": DATASOURCE,
                "query": {"query": query, "refId": name},
                "definition": query,
                "refresh": 2,
                "includeAll": True,
                "allValue": ".*",
                "multi": True,
                "current": {"text": "All", "value": "$__all"},
                "sort": 1,
                "hide": 0,
            }
        )
    return templating


def dashboard() -> dict[str, Any]:
    panels = _panels()
    templating = _templating()
    return {
        "__inputs": [
            {
                "name": "DS_PROMETHEUS",
                "label": "Prometheus",
                "type": "datasource",
                "pluginId": "prometheus",
                "pluginName": "Prometheus",
            }
        ],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
        ],
        "uid": "minecs-container-insights",
        "title": "minecs — Container Insights",
        "description": "ECS Container Insights for minecs: cluster, services, tasks, containers, instances.",
        "tags": ["minecs", "ecs", "container-insights"],
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "30s",
        "timezone": "browser",
        "templating": {"list": templating},
        "annotations": {"list": []},
        "panels": panels,
    }


def expressions(document: dict[str, Any]) -> list[str]:
    """Every PromQL expression a dashboard document holds: panel targets and variable queries."""
    found = [t["expr"] for p in document["panels"] for t in p.get("targets", [])]
    found += [v["definition"] for v in document["templating"]["list"] if v["type"] == "query"]
    return found


if __name__ == "__main__":
    json.dump(dashboard(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
