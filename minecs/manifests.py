"""Documents -> model objects: every form an ECS user already has, through one loader.

Accepted, per document (a file may hold several, separated by ``---``):

(a) a bare ``RegisterTaskDefinition`` body (``aws ecs register-task-definition --cli-input-json``);
(b) ``describe-task-definition`` output, with or without the ``{"taskDefinition": ...}`` wrapper;
    the read-only members (arn, revision, status, registeredAt, ...) are dropped, and the wrapper's
    ``tags`` (``--include TAGS``) are kept;
(c) a Kubernetes-style manifest::

        apiVersion: minecs.dev/v1
        kind: TaskDefinition | Service | Cluster
        metadata: {name: web, labels: {team: a}}
        spec: <the ECS request body, camelCase>

    ``metadata.name`` is the default for ``family`` / ``serviceName`` / ``clusterName``; when both are
    given they must agree, because the name is the object's identity for ``apply``.

Pure: text in, ``Document`` objects out; reading files is the caller's job. Every problem in every
document is collected and raised together as one ``ValidationError``, each tagged with its source
(``web.yaml:doc#2``) and with member paths as the user wrote them (``spec.containerDefinitions[0]...``
for a manifest).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml

from minecs.errors import FieldProblem, ValidationError
from minecs.model.service import ClusterSpec, ServiceSpec
from minecs.model.taskdef import READ_ONLY_MEMBERS, TaskDefinitionSpec
from minecs.validation import parse_task_definition
from minecs.validation.report import Report
from minecs.validation.service import parse_cluster, parse_service

API_VERSION = "minecs.dev/v1"
ENVELOPE_MEMBERS = ("apiVersion", "kind", "metadata", "spec")
METADATA_MEMBERS = ("name", "labels", "annotations")
DESCRIBE_WRAPPER_MEMBERS = ("taskDefinition", "tags")


class Kind(StrEnum):
    TASK_DEFINITION = "TaskDefinition"
    SERVICE = "Service"
    CLUSTER = "Cluster"


Body = TaskDefinitionSpec | ServiceSpec | ClusterSpec

# kind -> (the spec member that metadata.name fills, the parser of the spec)
_KINDS: Mapping[Kind, tuple[str, Callable[[Any, str], Body]]] = {
    Kind.TASK_DEFINITION: ("family", parse_task_definition),
    Kind.SERVICE: ("serviceName", parse_service),
    Kind.CLUSTER: ("clusterName", parse_cluster),
}


@dataclass(frozen=True)
class Document:
    kind: Kind
    name: str
    body: Body
    source: str
    labels: Mapping[str, str] = field(default_factory=dict)


def raw_documents(text: str, filename: str) -> list[Any]:
    """The decoded documents of one file, unvalidated (empty ones dropped); syntax errors raise."""
    docs = [json.loads(text)] if filename.endswith(".json") else list(yaml.safe_load_all(text))
    return [d for d in docs if d is not None]


def parse_text(text: str, filename: str = "<stdin>") -> list[Document]:
    """Every document in one file's text; raises ``ValidationError`` listing all problems."""
    try:
        raw_docs = [json.loads(text)] if filename.endswith(".json") else list(yaml.safe_load_all(text))
    except (json.JSONDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise ValidationError(
            [FieldProblem("", f"not valid {_syntax(filename)}: {exc}", source=filename)]
        ) from exc
    # An empty document between two --- is no document at all.
    numbered = enumerate(raw_docs, start=1)
    return parse_documents((raw, f"{filename}:doc#{number}") for number, raw in numbered if raw is not None)


def parse_documents(sourced: Iterable[tuple[Any, str]]) -> list[Document]:
    """Parse every ``(document, source)`` pair; raise one ``ValidationError`` with all problems."""
    docs: list[Document] = []
    problems: list[FieldProblem] = []
    for raw, source in sourced:
        try:
            docs.append(parse_document(raw, source))
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
    return docs


def _syntax(filename: str) -> str:
    return "JSON" if filename.endswith(".json") else "YAML"


def parse_document(data: Any, source: str) -> Document:
    """One decoded JSON/YAML document in any accepted form."""
    if not isinstance(data, Mapping):
        report = Report(source)
        report.add("", f"a document must be a mapping (JSON object), not {type(data).__name__}")
        report.raise_if_any()
    if "apiVersion" in data or "kind" in data:
        return _manifest(data, source)
    body = _register_body(data, source)
    spec = parse_task_definition(body, source)
    return Document(Kind.TASK_DEFINITION, spec.family, spec, source)


def _register_body(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    wrapped = data.get("taskDefinition")
    if isinstance(wrapped, Mapping):
        report = Report(source)
        for key in data:
            if key not in DESCRIBE_WRAPPER_MEMBERS:
                report.add(str(key), f'Unknown member "{key}" beside taskDefinition; expected only tags.')
        report.raise_if_any()
        body = {k: v for k, v in wrapped.items() if k not in READ_ONLY_MEMBERS}
        if "tags" in data:
            body["tags"] = data["tags"]
        return body
    return {k: v for k, v in data.items() if k not in READ_ONLY_MEMBERS}


def _manifest(data: Mapping[str, Any], source: str) -> Document:
    report = Report(source)
    for key in data:
        if key not in ENVELOPE_MEMBERS:
            report.add(
                str(key), f'Unknown manifest member "{key}", must be one of: {", ".join(ENVELOPE_MEMBERS)}'
            )
    if data.get("apiVersion") != API_VERSION:
        report.add("apiVersion", f"apiVersion must be {API_VERSION}, not {data.get('apiVersion')!r}")
    kind_text = data.get("kind")
    kind = Kind(kind_text) if kind_text in tuple(Kind) else None
    if kind is None:
        report.add("kind", f"kind must be one of {', '.join(Kind)}, not {kind_text!r}")
    name, labels = _metadata(data.get("metadata"), report)
    spec = data.get("spec")
    if not isinstance(spec, Mapping):
        report.add("spec", "spec must be a mapping holding the ECS request body")
    if kind is None or not isinstance(spec, Mapping) or report.problems:
        raise ValidationError(report.problems)  # never empty here: both cases were reported above
    member, parser = _KINDS[kind]
    body = dict(spec)
    if body.setdefault(member, name) != name:
        report.add(f"spec.{member}", f"spec.{member} {body[member]!r} differs from metadata.name {name!r}")
        report.raise_if_any()
    try:
        parsed = parser(body, source)
    except ValidationError as exc:
        raise ValidationError([_under_spec(p) for p in exc.problems]) from None
    return Document(kind, name, parsed, source, labels)


def _metadata(metadata: Any, report: Report) -> tuple[str, dict[str, str]]:
    if not isinstance(metadata, Mapping):
        report.add("metadata", "metadata must be a mapping with at least a name")
        return "", {}
    for key in metadata:
        if key not in METADATA_MEMBERS:
            report.add(
                f"metadata.{key}",
                f'Unknown metadata member "{key}", must be one of: {", ".join(METADATA_MEMBERS)}',
            )
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        report.add("metadata.name", "metadata.name must be a non-empty string")
        name = ""
    labels = metadata.get("labels") or {}
    if not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values()):
        report.add("metadata.labels", "metadata.labels must map names to strings")
        labels = {}
    return name, {str(k): v for k, v in labels.items()}


def _under_spec(problem: FieldProblem) -> FieldProblem:
    path = f"spec.{problem.path}" if problem.path else "spec"
    message = problem.message.replace(" in input:", " in spec:")
    return dataclasses.replace(problem, path=path, message=message)
