"""Simulate a regimen with a registered model: typical subjects or a population.

>>> import numpy as np
>>> from ketamine_therapy.pharmacology import iv_acute_series, simulate
>>> result = simulate(iv_acute_series(days=[1]), np.linspace(0, 4, 49))
>>> round(float(result.conc_ng_ml["ketamine"].max()))
253
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .. import __version__
from ._typing import FloatArray, IntArray
from .exceptions import InvalidInputError
from .models import PKModel, default_model, get_model
from .pd import with_effect_sites
from .population import Covariates
from .regimen import Regimen
from .solver import GENERATED_KERNEL_MIN_WORK, SubjectStatus, check_times, solve

CHUNK_BYTES = 48 * 2**20
"""Default output buffer of :func:`simulate_chunks` (fewer, larger chunks: 48 MiB ran the population benchmark
~8% faster than 24 MiB and 8 MiB ~30% slower on the 2-CPU development machine)."""

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done_subjects, total_subjects)`` after each chunk."""


@dataclass(frozen=True)
class SimulationResult:
    """Concentrations of each analyte, shape ``(n_subjects, n_times)`` in ng/mL, with provenance."""

    model_id: str
    drug: str
    times_h: FloatArray
    conc_ng_ml: dict[str, FloatArray]
    status: IntArray
    covariates: Covariates
    parameters: dict[str, FloatArray]
    regimen: Regimen
    seed: int | None = None
    extrapolated: bool = False
    version: str = field(default=__version__)

    @property
    def analytes(self) -> tuple[str, ...]:
        """Analyte names in output order."""
        return tuple(self.conc_ng_ml)

    @property
    def n_subjects(self) -> int:
        """Number of subjects."""
        return int(self.status.shape[0])

    def observe(self, rng: np.random.Generator) -> dict[str, FloatArray]:
        """Simulated measurements: concentrations with each model's residual error."""
        model = get_model(self.model_id)
        observed: dict[str, FloatArray] = {}
        for analyte, conc in self.conc_ng_ml.items():
            residual = model.residual(analyte)
            noise = rng.standard_normal(conc.shape)
            if residual.kind == "proportional":
                observed[analyte] = np.maximum(conc * (1.0 + residual.sd * noise), 0.0)
            else:
                observed[analyte] = conc * np.exp(residual.sd * noise)
        return observed


def resolve_model(model: str | PKModel | None, drug: str | None) -> PKModel:
    """The model to use: an explicit one, else the default of ``drug`` (racemic ketamine)."""
    if isinstance(model, PKModel):
        chosen = model
    elif model is not None:
        chosen = get_model(model)
    else:
        return default_model(drug or "racemic-ketamine")
    if drug is not None and chosen.drug != drug:
        raise InvalidInputError("model", f"{chosen.id} models {chosen.drug}, not {drug}", f"a {drug} model")
    return chosen


def _rng(rng: np.random.Generator | int | None) -> tuple[np.random.Generator, int | None]:
    if isinstance(rng, np.random.Generator):
        return rng, None
    return np.random.default_rng(rng), rng


def _prepare(
    regimen: Regimen,
    model: PKModel,
    covariates: Covariates,
    extrapolate: bool,
) -> None:
    model.check_covariates(covariates, extrapolate)
    for dose in regimen.doses:
        model.check_dose(dose, covariates.weight_kg, extrapolate)


def _run(
    regimen: Regimen,
    times: FloatArray,
    model: PKModel,
    covariates: Covariates,
    eta: FloatArray,
    out: FloatArray | None,
    effect_sites: bool = False,
    kernel_choice: str = "auto",
) -> tuple[dict[str, FloatArray], IntArray, dict[str, FloatArray]]:
    with np.errstate(all="ignore"):
        params = model.individual_parameters(covariates, eta)
    system = model.system(params, regimen.routes)
    if effect_sites:
        system = with_effect_sites(system)
    events = [e for dose in regimen.doses for e in model.dose_events(dose, params, covariates, system)]
    conc, status = solve(system, events, times, out, kernel_choice)
    return {a: conc[i] for i, a in enumerate(system.observed)}, status, params


def simulate(
    regimen: Regimen,
    times_h: FloatArray,
    *,
    model: str | PKModel | None = None,
    drug: str | None = None,
    covariates: Covariates | None = None,
    iiv: bool = False,
    rng: np.random.Generator | int | None = None,
    extrapolate: bool = False,
    effect_sites: bool = False,
) -> SimulationResult:
    """Simulate ``regimen`` on the grid ``times_h`` (hours after the first dose).

    Without ``covariates``, one typical 70 kg adult. With ``iiv=True`` each subject gets random
    effects drawn from the model's omegas with ``rng`` (a Generator or a seed). With
    ``effect_sites=True`` the result also holds ``<analyte>_effect`` (biophase, ng/mL).
    """
    chosen = resolve_model(model, drug)
    cov = covariates or Covariates.typical()
    times = check_times(times_h)
    _prepare(regimen, chosen, cov, extrapolate)
    generator, seed = _rng(rng)
    eta = chosen.sample_eta(cov.n, generator) if iiv else chosen.zero_eta(cov.n)
    conc, status, params = _run(regimen, times, chosen, cov, eta, None, effect_sites)
    return SimulationResult(chosen.id, chosen.drug, times, conc, status, cov, params, regimen, seed, extrapolate)


def simulate_chunks(
    regimen: Regimen,
    times_h: FloatArray,
    covariates: Covariates,
    *,
    model: str | PKModel | None = None,
    drug: str | None = None,
    iiv: bool = True,
    rng: np.random.Generator | int | None = None,
    chunk_size: int | None = None,
    extrapolate: bool = False,
    progress: ProgressCallback | None = None,
    out: FloatArray | None = None,
    effect_sites: bool = False,
    eta: FloatArray | None = None,
) -> Iterator[SimulationResult]:
    """Simulate a large population in chunks, reusing one output buffer (bounded memory).

    Random effects are drawn for all subjects up front (or passed as ``eta``, ``(n, n_eta)``), so
    results do not depend on ``chunk_size``. The default chunk keeps the output buffer near
    ``CHUNK_BYTES`` so it stays in cache. Each yielded result's arrays are views of one buffer
    (``out`` if given: float64, C-contiguous, at least ``n_analytes * chunk_size * n_times``
    elements, reusable across calls): consume or copy them before asking for the next chunk.
    """
    chosen = resolve_model(model, drug)
    times = check_times(times_h)
    n_analytes = len(chosen.analytes) * (2 if effect_sites else 1)
    if chunk_size is None:
        chunk_size = max(64, CHUNK_BYTES // (8 * n_analytes * times.size))
    if chunk_size < 1:
        raise InvalidInputError("chunk_size", f"got {chunk_size}", ">= 1")
    _prepare(regimen, chosen, covariates, extrapolate)
    generator, seed = _rng(rng)
    n = covariates.n
    if eta is not None:
        if eta.shape != (n, len(chosen.eta_names)):
            raise InvalidInputError("eta", f"has shape {eta.shape}", f"({n}, {len(chosen.eta_names)})")
    else:
        eta = chosen.sample_eta(n, generator) if iiv else chosen.zero_eta(n)
    # One kernel for every chunk, chosen by the whole population's work (a short last chunk too).
    kernel_choice = "generated" if n * times.size >= GENERATED_KERNEL_MIN_WORK else "auto"
    needed = n_analytes * min(chunk_size, n) * times.size
    if out is None:
        flat = np.empty(needed)
    elif out.dtype != np.float64 or not out.flags.c_contiguous or out.size < needed:
        raise InvalidInputError("out", f"has {out.size} float64 elements", f"C-contiguous float64, >= {needed}")
    else:
        flat = out.reshape(-1)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        index = slice(start, stop)
        sub = covariates.subset(index)
        m = stop - start  # a contiguous prefix of the buffer, also for the last, shorter chunk
        view = flat[: n_analytes * m * times.size].reshape(n_analytes, m, times.size)
        conc, status, params = _run(regimen, times, chosen, sub, eta[index], view, effect_sites, kernel_choice)
        yield SimulationResult(chosen.id, chosen.drug, times, conc, status, sub, params, regimen, seed, extrapolate)
        if progress is not None:
            progress(stop, n)


__all__ = ["ProgressCallback", "SimulationResult", "SubjectStatus", "simulate", "simulate_chunks"]
