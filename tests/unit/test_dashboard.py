"""The shipped Grafana dashboard is scripts/dashboard.py's output, importable, and uses only our metrics."""

from __future__ import annotations

import json
import re
import runpy
from typing import Any

from tests.conftest import REPO_ROOT

DASHBOARD = REPO_ROOT / "manifests" / "grafana" / "minecs-container-insights.json"
METRICS_DOC = REPO_ROOT / "docs" / "metrics.md"


def generator() -> dict[str, Any]:
    return runpy.run_path(str(REPO_ROOT / "scripts" / "dashboard.py"))


def test_the_json_is_the_generators_output() -> None:
    shipped = json.loads(DASHBOARD.read_text())
    assert shipped == generator()["dashboard"](), (
        "regenerate: .venv/bin/python scripts/dashboard.py > manifests/grafana/minecs-container-insights.json"
    )


def test_every_panel_reads_the_datasource_variable_and_every_variable_offers_all() -> None:
    document = json.loads(DASHBOARD.read_text())
    panels = [p for p in document["panels"] if p["type"] != "row"]
    assert len(panels) >= 20
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
    variables = {v["name"]: v for v in document["templating"]["list"]}
    assert set(variables) == {"datasource", "cluster", "service", "family", "task"}
    assert all(v["includeAll"] and v["allValue"] == ".*" for v in variables.values() if v["type"] == "query")


def test_the_expressions_use_only_metrics_we_document() -> None:
    document = json.loads(DASHBOARD.read_text())
    documented = set(re.findall(r"`((?:ecs|minecs)_[a-z_]+)", METRICS_DOC.read_text()))
    used: set[str] = set()
    for expr in generator()["expressions"](document):
        used |= set(re.findall(r"\b((?:ecs|minecs)_[a-z_]+)", expr))

    def base(name: str) -> str:
        return re.sub(r"_(total|bucket|count|sum)$", "", name)

    known = {base(d) for d in documented}
    # The network families are documented as one pattern each: ecs_{container,task}_network_{...}.
    patterns = [k for k in known if k.endswith("_network_")]
    missing = sorted(
        base(n) for n in used if base(n) not in known and not any(base(n).startswith(p) for p in patterns)
    )
    assert missing == [], f"dashboard metrics missing from docs/metrics.md: {missing}"
