"""Citations resolve inside the repository: every `#n` is a row of docs/research.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESEARCH = ROOT / "docs" / "research.md"
# Row n of the literature, as comments, docstrings and YAML comments cite it: `#n` (also in
# `#17-#19` and `#18/#19`), never part of a word, an HTML entity or a colour such as `#1d2430`.
CITATION = re.compile(r"(?<![\w&#])#(\d+)\b")
ROW = re.compile(r"^\| (\d+) \|", re.MULTILINE)


def sources(*packages: str) -> list[Path]:
    """Return the catalog's YAML files and the Python files of `packages`."""
    files = sorted((ROOT / "catalog").glob("*.yaml"))
    for package in packages:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def rows() -> list[int]:
    """Return the row numbers of docs/research.md's table of findings, in order."""
    return [int(n) for n in ROW.findall(RESEARCH.read_text())]


def test_the_literature_rows_are_numbered_once_in_order():
    numbers = rows()
    assert numbers and numbers == sorted(set(numbers))


def test_every_citation_is_a_row_of_docs_research():
    known = set(rows())
    missing = {}
    for path in sources("remedy", "training", "models", "tests"):
        unknown = {int(n) for n in CITATION.findall(path.read_text())} - known
        if unknown:
            missing[str(path.relative_to(ROOT))] = sorted(unknown)
    assert missing == {}


def test_the_citation_pattern_finds_citations_and_nothing_else():
    """Guard the pattern: the simulator and the rules cite rows; colours and entities do not."""
    simulator = CITATION.findall((ROOT / "training" / "world.py").read_text())
    assert {"4", "17", "18", "19"} <= set(simulator)
    assert CITATION.findall((ROOT / "catalog" / "default_rules.yaml").read_text())
    assert CITATION.findall("color: #1d2430; &#8212; issue#12") == []


def test_citations_point_inside_the_repository():
    """A clone has docs/research.md, not the team's shared folder it was drawn from."""
    outside = "shared/research"
    texts = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    texts += sources("remedy", "training", "models")
    texts += (ROOT / "models" / "artifacts").rglob("card.json")
    assert [str(p.relative_to(ROOT)) for p in texts if outside in p.read_text()] == []
