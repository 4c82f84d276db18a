"""Every citation of the reference files resolves inside the repository (docs/references/)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = ROOT / "docs" / "references"
CITING = sorted(
    path
    for folder in ("src", "docs", "tests")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in {".py", ".yaml", ".md", ".html"} and REFERENCES not in path.parents
)
SECTION = re.compile(r"clinical\.md,? (?:§ ?|section )(\d[a-z]?)\b")
ROW = re.compile(r"clinical\.md §(\d[a-z]?) '((?:[^'\\]|\\.)+)'")
KEY = re.compile(r"pharmacology\.yaml,? `?([A-Za-z_]\w*(?:\.[\w-]+)+)")


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "").replace('\\"', '"')).lower()


CLINICAL = (REFERENCES / "clinical.md").read_text("utf-8")
PHARMACOLOGY: dict[str, Any] = yaml.safe_load((REFERENCES / "pharmacology.yaml").read_text("utf-8"))
SECTIONS = set(re.findall(r"^#{2,3} (\d[a-z]?)\. ", CLINICAL, flags=re.MULTILINE))


def _citations(pattern: re.Pattern[str]) -> list[tuple[str, re.Match[str]]]:
    return [(str(p.relative_to(ROOT)), m) for p in CITING for m in pattern.finditer(p.read_text("utf-8"))]


def test_the_reference_files_are_in_the_repository() -> None:
    assert {"1a", "1b", "1c", "1d", "1e", "2a", "2b"} <= SECTIONS
    assert {"drugs", "routes", "pk_models", "pd", "trials"} <= set(PHARMACOLOGY)
    assert "docs/references/clinical.md" in (REFERENCES / "README.md").read_text("utf-8") or (
        "`clinical.md`" in (REFERENCES / "README.md").read_text("utf-8")
    )


def test_no_citation_points_outside_the_repository() -> None:
    pattern = re.compile(r"shared[/]reference|(?<![\w/])reference[/](?:clinical|pharmacology)")
    outside = [(str(p.relative_to(ROOT)), m.group(0)) for p in CITING for m in pattern.finditer(p.read_text("utf-8"))]
    assert outside == []


@pytest.mark.parametrize(("where", "match"), _citations(SECTION), ids=lambda v: v if isinstance(v, str) else v[0])
def test_every_cited_section_of_clinical_md_exists(where: str, match: re.Match[str]) -> None:
    assert match.group(1) in SECTIONS, f"{where}: {match.group(0)}"


def test_every_quoted_row_of_clinical_md_exists() -> None:
    rows = _citations(ROW)
    assert len(rows) > 20
    text = _normalised(CLINICAL)
    missing = [(where, m.group(0)) for where, m in rows if _normalised(m.group(2)) not in text]
    assert missing == []


def test_every_cited_key_of_pharmacology_yaml_exists() -> None:
    keys = _citations(KEY)
    assert keys
    missing = []
    for where, m in keys:
        node: Any = PHARMACOLOGY
        for part in m.group(1).split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            missing.append((where, m.group(1)))
    assert missing == []
