"""Secrets and environment files: values that a task needs before its containers can be created.

``SecretResolver`` is the seam; ``LocalSecretStore`` is the default. It reads a directory of files,
one secret per file, and finds a ``valueFrom`` by its full text or by the last path segment of an SSM
or Secrets Manager ARN (``arn:aws:ssm:...:parameter/app/db-password`` -> ``db-password``;
``arn:aws:secretsmanager:...:secret:db-password-AbCdEf`` -> ``db-password-AbCdEf``, then without
the 6-character suffix Secrets Manager appends). Files must not be readable by group or others: a
store that leaks is refused, as ssh refuses a world-readable key.

Secret values are returned to the engine only to build the container's environment: they never go
into logs, state files or state changes (the container snapshot carries no environment).

Environment files (``environmentFiles``) are local paths on a minecs host (ECS uses S3 objects):
``VAR=VALUE`` lines, ``#`` comments and blank lines ignored, top-down, later files win.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from minecs.errors import SecretNotFoundError

_SM_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


class SecretResolver(Protocol):
    def resolve(self, value_from: str) -> str:
        """The secret's value; ``SecretNotFoundError`` when there is none."""
        ...


def candidate_keys(value_from: str) -> list[str]:
    """File names a ``valueFrom`` may be stored under, most specific first."""
    keys = [value_from]
    if value_from.startswith("arn:"):
        resource = value_from.split(":", 5)[-1]
        last = re.split(r"[/:]", resource)[-1]
        keys += [last, _SM_SUFFIX.sub("", last)]
    return list(dict.fromkeys(k for k in keys if k and "/" not in k))


class LocalSecretStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def resolve(self, value_from: str) -> str:
        for key in candidate_keys(value_from):
            path = self.directory / key
            if path.is_file():
                if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                    raise SecretNotFoundError(
                        f"secret file {path} is readable by group or others; chmod 600 it"
                    )
                return path.read_text().rstrip("\n")
        raise SecretNotFoundError(f"no secret for {value_from} in {self.directory}")


def resolve_secrets(resolver: SecretResolver, secrets: Mapping[str, str]) -> dict[str, str]:
    """Environment name -> value for ``{name: valueFrom}``; the first missing one raises."""
    return {name: resolver.resolve(value_from) for name, value_from in secrets.items()}


def parse_env_file(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        env[name.strip()] = value
    return env


def read_env_files(paths: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for path in paths:
        try:
            env.update(parse_env_file(Path(path).read_text()))
        except OSError as exc:
            raise SecretNotFoundError(f"cannot read environment file {path}: {exc.strerror}") from exc
    return env
