"""``minecs diff -f PATH``: what ``apply -f`` would change, as a unified diff, like ``kubectl diff``.

The controller answers a server dry run of the same documents (``/v1/apply`` with ``dryRun``): each
object's outcome and the parts apply compares, live and wanted. Both are shown as YAML, so a
changed image, count or setting reads as one ``-``/``+`` pair. Exit status as kubectl's: 0 nothing
would change, 1 something would, 2 the diff could not be made (the reason on stderr).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from typing import Any

import yaml

from minecs import settings
from minecs.cli.client import admin_call, read_manifests
from minecs.errors import MinecsError


def unified(name: str, live: Any, wanted: Any) -> list[str]:
    """The diff of one object, ``live/KIND/NAME`` against ``merged/KIND/NAME``; empty when equal."""
    before = yaml.safe_dump(live, sort_keys=True).splitlines() if live is not None else []
    after = yaml.safe_dump(wanted, sort_keys=True).splitlines() if wanted is not None else []
    return list(difflib.unified_diff(before, after, f"live/{name}", f"merged/{name}", lineterm=""))


async def diff_files(args: argparse.Namespace, config: settings.Settings) -> int:
    raw = read_manifests(args.filename)
    if raw is None:
        return 2
    try:
        body = {"documents": raw, "dryRun": True}
        answer = await admin_call(args, config, "POST", "/v1/apply", body)
    except MinecsError as exc:
        print(f"minecs: {exc.message}", file=sys.stderr)
        return 2
    changed = False
    for result in answer["results"]:
        if result["outcome"] == "unchanged":
            continue
        lines = unified(
            f"{result['kind'].lower()}/{result['name']}", result.get("live"), result.get("wanted")
        )
        if lines:
            changed = True
            print("\n".join(lines))
    return 1 if changed else 0
