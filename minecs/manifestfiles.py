"""Manifest files read from disk: the I/O half of ``minecs.manifests`` (which is pure).

``-f DIR`` takes the directory's ``.yaml``, ``.yml`` and ``.json`` files in name order, not
recursively, as ``kubectl -f DIR`` does; ``-f -`` reads standard input. An unreadable path is a
``FieldProblem`` naming the file, so every problem is told at once. Used by ``minecs validate``,
``apply``, ``create`` and ``minecs up``, which is why it lives below ``minecs.cli``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from minecs.errors import FieldProblem

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def read_sources(
    paths: Sequence[str], stdin: TextIO, problems: list[FieldProblem]
) -> Iterator[tuple[str, str]]:
    """(display name, text) for every file the paths name; unreadable paths become problems."""
    for raw in paths:
        if raw == "-":
            yield "<stdin>", stdin.read()
            continue
        path = Path(raw)
        files = (
            sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES) if path.is_dir() else [path]
        )
        for file in files:
            try:
                yield str(file), file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(FieldProblem("", f"cannot read file: {exc}", source=str(file)))
