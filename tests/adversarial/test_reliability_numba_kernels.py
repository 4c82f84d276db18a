"""Compiled kernels: 8 threads calling them at once do not kill the process, even under numba's workqueue threading
layer (not thread-safe); the kernel cache is a private folder and runs only the source it generated.

Each case runs in a subprocess: a crash (abort) must fail the test, not the test run, and the cache folder and
threading layer are chosen per process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = """
import threading
import numpy as np
from ketamine_therapy.pharmacology import Covariates, Dose, Regimen, Route, get_model, solve

def problem():
    model = get_model("clements-1981")
    cov = Covariates.typical(4, weight_kg=70.0, age_y=40.0)
    params = model.individual_parameters(cov, model.sample_eta(cov.n, np.random.default_rng(1)))
    regimen = Regimen((Dose(0.0, Route.IV, amount_mg_per_kg=0.5, duration_h=40 / 60),))
    system = model.system(params, regimen.routes)
    events = [e for d in regimen.doses for e in model.dose_events(d, params, cov, system)]
    return system, events, np.linspace(0, 24, 200)
"""


def _run(code: str, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "KETAMINE_THERAPY_CACHE": str(cache), "PYTHONPATH": str(ROOT / "src"), **env}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(SETUP) + textwrap.dedent(code)], env=environment,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def test_eight_threads_under_the_workqueue_layer(tmp_path: Path) -> None:
    done = _run(
        """
        system, events, times = problem()
        expected = {c: solve(system, events, times, kernel_choice=c)[0] for c in ("generic", "generated")}
        errors = []

        def work(choice):
            for _ in range(30):
                conc, status = solve(system, events, times, kernel_choice=choice)
                if not (np.all(status == 0) and np.array_equal(conc, expected[choice])):
                    errors.append(choice)

        threads = [threading.Thread(target=work, args=(("generic", "generated")[i % 2],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        import numba
        print(numba.threading_layer(), len(errors))
    """,
        tmp_path / "cache",
        NUMBA_THREADING_LAYER="workqueue",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["workqueue", "0"]


def test_the_cache_is_private_and_verified(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "kernels").mkdir(parents=True)
    (shared / "kernels").chmod(0o777)  # anyone may write here: not used
    done = _run(
        """
        from ketamine_therapy.pharmacology import _kernel
        print(_kernel._cache_dir())
    """,
        shared,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    used = Path(done.stdout.strip())
    assert used != shared / "kernels"
    assert used.stat().st_mode & 0o777 == 0o700

    private = tmp_path / "private"
    marker = tmp_path / "planted-code-ran"
    first = _run(
        """
        system, events, times = problem()
        solve(system, events, times, kernel_choice="generated")
    """,
        private,
    )
    assert first.returncode == 0, first.stderr[-2000:]
    kernels = private / "kernels"
    assert kernels.stat().st_mode & 0o777 == 0o700
    [path] = kernels.glob("k_*.py")
    genuine = path.read_text()
    path.write_text(f"open({str(marker)!r}, 'w').write('x')\n" + genuine)  # a planted file under the right name
    again = _run(
        """
        system, events, times = problem()
        conc, status = solve(system, events, times, kernel_choice="generated")
        assert np.all(status == 0)
    """,
        private,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert not marker.exists()
    assert path.read_text() == genuine
