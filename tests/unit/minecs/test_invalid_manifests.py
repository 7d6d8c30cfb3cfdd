"""Every deliberately broken manifest gets exactly the problems its ``# expect:`` lines name."""

from __future__ import annotations

from pathlib import Path

import pytest

from minecs.errors import ValidationError
from minecs.manifests import parse_text
from tests.conftest import REPO_ROOT

INVALID = REPO_ROOT / "manifests" / "invalid"
FILES = sorted(p for p in INVALID.iterdir() if p.suffix in (".yaml", ".json"))


def expectations(path: Path) -> list[tuple[str, str, str]]:
    sidecar = path.with_name(path.name + ".expect")
    text = sidecar.read_text() if sidecar.exists() else path.read_text()
    found = []
    for line in text.splitlines():
        if line.startswith("# expect: "):
            code, rest = line.removeprefix("# expect: ").split(" ", 1)
            where, message = rest.split(": ", 1)
            found.append((code, where, message))
    return found


def test_there_are_broken_manifests_with_expectations() -> None:
    assert len(FILES) >= 15
    assert all(expectations(p) for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_broken_manifest_gets_exactly_its_expected_problems(path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_text(path.read_text(), path.name)
    got = [(p.code, p.path, p.message) for p in caught.value.problems]
    expected = expectations(path)
    assert len(got) == len(expected), got
    for code, where, fragment in expected:
        assert any(c == code and w == where and fragment in m for c, w, m in got), (
            code,
            where,
            fragment,
            got,
        )
    assert all(p.source == f"{path.name}:doc#1" for p in caught.value.problems)
