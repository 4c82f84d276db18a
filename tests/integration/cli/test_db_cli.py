"""``ketamine-therapy db`` against a real SQLite file (a subprocess, as a user runs it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str, env_url: str | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **({"KETAMINE_THERAPY_DATABASE_URL": env_url} if env_url else {})}
    return subprocess.run([sys.executable, "-m", "ketamine_therapy.cli", "db", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)  # fmt: skip


def test_upgrade_downgrade_with_url_and_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    up = run("upgrade", "--url", url)
    assert up.returncode == 0, up.stderr
    assert "revision 0008" in up.stdout
    down = run("downgrade", "base", env_url=url)
    assert down.returncode == 0, down.stderr
    assert "revision None" in down.stdout
