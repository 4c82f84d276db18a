"""docs/security.md's permission table is the code's permission matrix."""

from __future__ import annotations

from pathlib import Path

from ketamine_therapy.services.authorization import PERMISSIONS, Permission, Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_documented_matrix_matches_the_code() -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| `")]
    header = next(line for line in DOC.read_text().splitlines() if line.startswith("| permission |"))
    roles = [Role(cell.strip()) for cell in header.strip("|").split("|")[1:]]
    documented = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        permission = Permission(cells[0].strip("`"))
        documented[permission] = {role for role, cell in zip(roles, cells[1:], strict=True) if cell == "yes"}
    assert set(documented) == set(Permission)
    for permission, allowed in documented.items():
        assert allowed == {role for role in Role if permission in PERMISSIONS[role]}, permission
