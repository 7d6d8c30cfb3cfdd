"""``minecs validate -f PATH...``: read files, parse every document, say what is valid and what is not.

Files are read by ``minecs.manifestfiles`` (``minecs.manifests`` is pure). ``-f DIR`` takes the
directory's ``.yaml``, ``.yml`` and ``.json`` files in name order, not recursively, as ``kubectl -f
DIR`` does; ``-f -`` reads standard input. Output:

* summary (default): one line per valid object, ``TaskDefinition/web  valid  (...)  web.yaml:doc#1``;
* ``-o json``: the normalised ECS JSON of each valid object, one pretty JSON document after another,
  so a single task definition pipes straight into ``aws ecs register-task-definition --cli-input-json``;
* errors: every problem on stderr as ``ERROR source: path: message (Code)``, and exit status 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from minecs.cli.hints import problem_line
from minecs.errors import FieldProblem, ValidationError
from minecs.manifestfiles import read_sources
from minecs.manifests import Document, parse_text
from minecs.model.codec import encode
from minecs.model.service import ServiceSpec
from minecs.model.taskdef import TaskDefinitionSpec


def run_validate(paths: Sequence[str], output: str, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    documents: list[Document] = []
    problems: list[FieldProblem] = []
    for name, text in read_sources(paths, stdin, problems):
        try:
            documents.extend(parse_text(text, name))
        except ValidationError as exc:
            problems.extend(exc.problems)
    for doc in documents:
        if output == "json":
            print(json.dumps(encode(doc.body), indent=2), file=stdout)
        else:
            print(f"{doc.kind.value}/{doc.name}  valid  ({describe(doc)})  {doc.source}", file=stdout)
    for problem in problems:
        print(f"ERROR {problem_line(problem)}", file=stderr)
    if problems:
        print(f"{len(problems)} problem(s) found; {len(documents)} valid object(s).", file=stderr)
        return 1
    if not documents:
        print("no objects found", file=stderr)
        return 1
    return 0


def describe(doc: Document) -> str:
    body = doc.body
    if isinstance(body, TaskDefinitionSpec):
        names = ", ".join(c.name or "?" for c in body.container_definitions)
        return f"networkMode {body.network_mode.value}; containers: {names}"
    if isinstance(body, ServiceSpec):
        return f"taskDefinition {body.task_definition}"
    return "cluster"
