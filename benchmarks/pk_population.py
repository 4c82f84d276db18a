"""Population PK benchmark: the exact batched solver vs a per-subject LSODA baseline.

Scenario: the IV acute series (racemic ketamine 0.5 mg/kg over 40 min on days 1, 3, 5, 8, 10,
12; ``iv_acute_series()``) with the default racemic model (herd-2007: two-compartment parent
+ two-compartment norketamine), log-normal IIV on the model's parameters (Herd 2007: V1, V2, CL, Q; ``iiv=True``),
covariates from ``sample_covariates``, both analytes every 5 min for 21 days (6,049 float64
points per analyte and subject).

For each population size the script reports:

* fast path: ``simulate_chunks`` with one reused buffer, timed end to end (covariate and
  random-effect sampling included) after a warm-up that absorbs numba compilation / cache
  loading and the model's set-up;
* baseline: ``scipy.integrate.solve_ivp`` (LSODA, rtol 1e-8, atol 1e-12 x dose) per subject on
  a subset of the SAME subjects (same rate matrices and infusion events), integrated piecewise
  between infusion breakpoints and evaluated on the same 6,049 times;
* accuracy: max relative error of both against an independent reference, superposition of
  closed-form infusion solutions with ``scipy.linalg.expm`` evaluated at every output time;
* memory: tracemalloc peak (separate, untimed pass: tracing slows Python allocation) and the
  peak RSS of the timed pass (``ru_maxrss``, reset per run through /proc/self/clear_refs when the
  kernel allows it).

The last line is machine-readable::

    RESULT pk_population n=10000 subjects_per_s=<x> baseline_subjects_per_s=<y> max_rel_err=<z>

Run: ``python benchmarks/pk_population.py [--sizes 1000,10000,100000] [--million]``.
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import functools
import os
import pstats
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from itertools import pairwise

import numba
import numpy as np
import scipy
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from ketamine_therapy.pharmacology import (
    Covariates,
    PKModel,
    Regimen,
    SubjectStatus,
    default_model,
    iv_acute_series,
    sample_covariates,
    simulate_chunks,
)
from ketamine_therapy.pharmacology.simulate import CHUNK_BYTES

N_TIMES = 6049
STEP_H = 5.0 / 60.0
TIMES_H = np.arange(N_TIMES) * STEP_H  # 0 .. 504 h (21 days) every 5 min
RTOL = 1e-8
ATOL_PER_MG = 1e-12  # solve_ivp atol = 1e-12 x the largest dose (mg)
REL_FLOOR = 1e-6  # relative-error denominator floor, as a fraction of the curve's peak
PROGRESS_MIN_N = 50_000
RESULT_N = 10_000
MILLION = 1_000_000

FloatArray = np.ndarray


# -- environment ---------------------------------------------------------------------------------


def _openblas_setters() -> list[tuple[Callable[[int], None], Callable[[], int]]]:
    """(set, get) thread-count functions of every OpenBLAS loaded in this process (numpy, scipy)."""
    found = []
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        return found
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("", "64_"):
            for prefix in ("scipy_openblas", "openblas"):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    found.append((setter, getter))
                    break
    return found


def blas_threads() -> list[int]:
    """Current thread count of each loaded OpenBLAS."""
    return [int(get()) for _, get in _openblas_setters()]


@contextmanager
def limit_blas_threads(n: int | None) -> Iterator[None]:
    """Temporarily set every loaded OpenBLAS to ``n`` threads (None: leave as is)."""
    libs = _openblas_setters() if n is not None else []
    before = [int(get()) for _, get in libs]
    for set_threads, _ in libs:
        set_threads(n)
    try:
        yield
    finally:
        for (set_threads, _), old in zip(libs, before, strict=True):
            set_threads(old)


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    """``ru_maxrss`` in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- fast path -----------------------------------------------------------------------------------


@dataclass
class Capture:
    """Subjects kept from the fast run for the baseline and accuracy checks."""

    index: np.ndarray  # population indices
    params: dict[str, FloatArray]  # individual parameters, (k,) each
    covariates: Covariates
    conc: FloatArray  # (n_analytes, k, n_times), fast-path output
    analytes: tuple[str, ...]


@dataclass
class FastRun:
    n: int
    seconds: float
    cpu_seconds: float  # process CPU time (all threads) over the timed section
    n_ok: int
    capture: Capture | None


def _capture_indices(n: int, k: int) -> np.ndarray:
    """``k`` subjects spread over the population (first, last and every chunk in between)."""
    return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(np.int64))


@functools.cache
def output_buffer(chunk_size: int | None) -> FloatArray:
    """One output buffer for every timed run, allocated and touched once (as a long-running service would)."""
    subjects = chunk_size or max(64, CHUNK_BYTES // (8 * 2 * TIMES_H.size))
    return np.zeros(2 * subjects * TIMES_H.size)


def run_fast(
    model: PKModel,
    regimen: Regimen,
    n: int,
    *,
    chunk_size: int | None,
    seed: int,
    n_capture: int,
    console: Console | None,
    out: FloatArray | None = None,
) -> FastRun:
    """Simulate ``n`` subjects with ``simulate_chunks``, timed from covariate sampling on."""
    wanted = _capture_indices(n, n_capture) if n_capture else np.empty(0, dtype=np.int64)
    parts: list[tuple[np.ndarray, dict[str, FloatArray], Covariates, FloatArray]] = []
    analytes: tuple[str, ...] = ()
    bar = (
        Progress(
            TextColumn(f"N={n:,}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            refresh_per_second=4,
        )
        if console is not None
        else None
    )
    n_ok = 0
    with bar if bar is not None else nullcontext():
        task = bar.add_task("simulate", total=n) if bar is not None else None

        def progress(done: int, total: int) -> None:
            if bar is not None and task is not None:
                bar.update(task, completed=done)

        t0, c0 = time.perf_counter(), time.process_time()
        rng = np.random.default_rng(seed)
        covariates = sample_covariates(n, rng)
        chunks = simulate_chunks(
            regimen,
            TIMES_H,
            covariates,
            model=model,
            iiv=True,
            rng=rng,
            chunk_size=chunk_size,
            progress=progress,
            out=out,
        )
        start = 0
        for result in chunks:
            m = result.n_subjects
            n_ok += int(np.count_nonzero(result.status == SubjectStatus.OK))
            local = wanted[(wanted >= start) & (wanted < start + m)] - start
            if local.size:
                analytes = result.analytes
                conc = np.stack([result.conc_ng_ml[a][local] for a in analytes])
                params = {k: v[local].copy() for k, v in result.parameters.items()}
                parts.append((local + start, params, result.covariates.subset(local), conc))
            start += m
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    capture = None
    if parts:
        capture = Capture(
            index=np.concatenate([p[0] for p in parts]),
            params={k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]},
            covariates=Covariates(
                *(
                    np.concatenate([getattr(p[2], f) for p in parts])
                    for f in ("weight_kg", "age_y", "female", "asian", "japanese")
                )
            ),
            conc=np.concatenate([p[3] for p in parts], axis=1),
            analytes=analytes,
        )
    return FastRun(n, seconds, cpu, n_ok, capture)


def warm_up(model: PKModel, regimen: Regimen, chunk_size: int | None) -> float:
    """Compile or load the numba kernel, set the model up, and touch the buffers once.

    One untimed population of 5,000 subjects: the first call of a process pays for kernel loading
    and first-touch page faults of the output buffer and the per-chunk temporaries (0.1-0.5 s on
    this machine). A long-running service pays that once; the timed runs measure the steady state.
    """
    t0 = time.perf_counter()
    covariates = Covariates.typical(5000)
    chunks = simulate_chunks(
        regimen, TIMES_H, covariates, model=model, iiv=True, rng=0, chunk_size=chunk_size, out=output_buffer(chunk_size)
    )
    simulated = sum(chunk.n_subjects for chunk in chunks)
    assert simulated == covariates.n
    return time.perf_counter() - t0


# -- per-subject systems -------------------------------------------------------------------------


@dataclass
class Subject:
    rate_matrix: FloatArray  # (n_cmt, n_cmt), 1/h
    infusions: list[tuple[float, float, int, float]]  # (start_h, end_h, compartment, mg/h)
    observed: list[tuple[int, float]]  # per analyte: (compartment, volume L)
    max_dose_mg: float


def subjects_of(model: PKModel, regimen: Regimen, capture: Capture) -> list[Subject]:
    """Each captured subject's own rate matrix and infusions, from the model's public API."""
    system = model.system(capture.params, regimen.routes)
    events = [e for dose in regimen.doses for e in model.dose_events(dose, capture.params, capture.covariates, system)]
    if any(e.duration_h <= 0 for e in events):
        raise SystemExit("this benchmark handles zero-order infusions only")
    order = list(system.observed)
    if tuple(order) != capture.analytes:
        raise SystemExit(f"analyte order differs: {order} vs {capture.analytes}")
    out = []
    for i in range(system.n_subjects):
        infusions = [
            (e.time_h, e.time_h + e.duration_h, e.compartment, float(e.amount_mg[i]) / e.duration_h) for e in events
        ]
        observed = [(c, float(v[i])) for c, v in system.observed.values()]
        max_dose = max(float(e.amount_mg[i]) for e in events)
        out.append(Subject(np.array(system.rate_matrix[i]), infusions, observed, max_dose))
    return out


def _concentrations(subject: Subject, amounts: FloatArray) -> FloatArray:
    """(n_analytes, n_times) ng/mL from amounts (n_cmt, n_times) mg."""
    return np.stack([amounts[c] / v * 1000.0 for c, v in subject.observed])


# -- independent reference: superposition of closed-form infusion solutions ----------------------


def reference(subject: Subject, times: FloatArray) -> FloatArray:
    """Exact concentrations by superposition, one matrix exponential per output time.

    For an infusion at rate r from ts to te, x(t) = expm(A (t - min(t, te))) Phi(min(t, te) - ts) r
    for t > ts, with Phi(tau) = int_0^tau expm(A s) ds the top-right block of the Van Loan
    exponential expm([[A, I], [0, 0]] tau). Repeated time offsets are evaluated once.
    """
    a = subject.rate_matrix
    n = a.shape[0]
    x = np.zeros((n, times.size))
    blocks = []
    for ts, te, cmt, rate in subject.infusions:
        mask = times > ts
        t = times[mask]
        end = np.minimum(t, te)
        blocks.append((mask, end - ts, t - end, cmt, rate))
    # Phi(tau) r for every distinct infusion time tau (Van Loan).
    tau_in = np.unique(np.concatenate([b[1] for b in blocks]))
    augmented = np.zeros((tau_in.size, 2 * n, 2 * n))
    augmented[:, :n, :n] = a * tau_in[:, None, None]
    augmented[:, :n, n:] = np.eye(n) * tau_in[:, None, None]
    phi = expm(augmented)[:, :n, n:]
    # expm(A tau) for every distinct time since the infusion ended.
    tau_after = np.unique(np.concatenate([b[2] for b in blocks]))
    decay = expm(a * tau_after[:, None, None])
    for mask, t_in, t_after, cmt, rate in blocks:
        during = phi[np.searchsorted(tau_in, t_in)][:, :, cmt] * rate  # Phi(tau) r, (m, n)
        after = decay[np.searchsorted(tau_after, t_after)]  # (m, n, n)
        x[:, mask] += np.einsum("kij,kj->ik", after, during)
    return _concentrations(subject, x)


# -- baseline: per-subject LSODA -----------------------------------------------------------------


def baseline(subject: Subject, times: FloatArray) -> FloatArray:
    """solve_ivp (LSODA) integrated piecewise between infusion starts and stops."""
    a = subject.rate_matrix
    n = a.shape[0]
    atol = ATOL_PER_MG * subject.max_dose_mg
    edges = {0.0, float(times[-1])}
    edges |= {t for ts, te, _, _ in subject.infusions for t in (ts, te) if t < times[-1]}
    breakpoints = sorted(edges)
    out = np.empty((n, times.size))
    state = np.zeros(n)

    def jac(t: float, y: FloatArray) -> FloatArray:
        return a

    for k, (lo, hi) in enumerate(pairwise(breakpoints)):
        rate = np.zeros(n)
        for ts, te, cmt, r in subject.infusions:
            if ts <= lo and te >= hi:
                rate[cmt] += r

        def rhs(t: float, y: FloatArray, rate: FloatArray = rate) -> FloatArray:
            return a @ y + rate

        last = k == len(breakpoints) - 2
        inside = (times >= lo) & ((times <= hi) if last else (times < hi))
        t_eval = times[inside]
        if t_eval.size == 0 or t_eval[-1] != hi:
            t_eval = np.append(t_eval, hi)
        sol = solve_ivp(rhs, (lo, hi), state, method="LSODA", t_eval=t_eval, rtol=RTOL, atol=atol, jac=jac)
        if not sol.success:
            raise RuntimeError(f"solve_ivp failed on [{lo}, {hi}]: {sol.message}")
        count = int(np.count_nonzero(inside))
        out[:, inside] = sol.y[:, :count]
        state = sol.y[:, -1]
    return _concentrations(subject, out)


def max_rel_err(value: FloatArray, ref: FloatArray) -> float:
    """max |value - ref| / max(|ref|, REL_FLOOR x peak of that subject's curve), over the curve."""
    peak = np.max(np.abs(ref), axis=-1, keepdims=True)
    floor = np.maximum(np.abs(ref), REL_FLOOR * peak)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.abs(value - ref) / floor
    err = np.where(peak > 0, err, np.abs(value - ref))
    return float(np.max(err))


# -- one population size -------------------------------------------------------------------------


@dataclass
class Row:
    n: int
    seconds: float
    subjects_per_s: float
    cpu_util: float
    n_ok: int
    baseline_per_s: float | None
    tracemalloc_mib: float | None
    rss_mib: float
    rss_reset: bool
    err_fast: float | None
    err_baseline: float | None
    n_err: int
    n_baseline: int


def run_size(
    model: PKModel,
    regimen: Regimen,
    n: int,
    args: argparse.Namespace,
    err_console: Console,
    *,
    with_baseline: bool = True,
    with_tracemalloc: bool = True,
) -> Row:
    n_capture = max(args.accuracy_subjects, args.baseline_subjects if with_baseline else 0)
    show_bar = not args.no_progress and n >= PROGRESS_MIN_N
    with limit_blas_threads(args.blas_threads):
        rss_reset = reset_peak_rss()
        fast = run_fast(
            model,
            regimen,
            n,
            chunk_size=args.chunk_size,
            seed=args.seed,
            n_capture=n_capture,
            console=err_console if show_bar else None,
            out=output_buffer(args.chunk_size),
        )
        rss = peak_rss_mib()
    rate = n / fast.seconds
    err_console.print(f"  N={n:,}: {fast.seconds:.3f} s, {rate:,.0f} subjects/s")

    traced = None
    if with_tracemalloc and not args.no_tracemalloc:
        with limit_blas_threads(args.blas_threads):
            tracemalloc.start()
            run_fast(
                model,
                regimen,
                n,
                chunk_size=args.chunk_size,
                seed=args.seed,
                n_capture=0,
                console=None,
                out=output_buffer(args.chunk_size),
            )
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()

    assert fast.capture is not None
    subjects = subjects_of(model, regimen, fast.capture)
    base_rate = None
    base_conc: list[FloatArray] = []
    if with_baseline and args.baseline_subjects > 0:
        chosen = subjects[: args.baseline_subjects]
        with limit_blas_threads(args.blas_threads):
            t0 = time.perf_counter()
            base_conc = [baseline(s, TIMES_H) for s in chosen]
            base_rate = len(chosen) / (time.perf_counter() - t0)
        err_console.print(f"  baseline: {len(chosen)} subjects, {base_rate:.2f} subjects/s")

    err_fast = err_base = None
    n_err = min(args.accuracy_subjects, len(subjects))
    if n_err:
        # The reference is untimed; one BLAS thread keeps scipy's per-matrix expm loop fast.
        with limit_blas_threads(1):
            refs = [reference(s, TIMES_H) for s in subjects[:n_err]]
        err_fast = max(max_rel_err(fast.capture.conc[:, i], ref) for i, ref in enumerate(refs))
        if base_conc:
            err_base = max(max_rel_err(b, ref) for b, ref in zip(base_conc, refs, strict=False))
    return Row(
        n=n,
        seconds=fast.seconds,
        subjects_per_s=rate,
        cpu_util=fast.cpu_seconds / fast.seconds,
        n_ok=fast.n_ok,
        baseline_per_s=base_rate,
        tracemalloc_mib=traced,
        rss_mib=rss,
        rss_reset=rss_reset,
        err_fast=err_fast,
        err_baseline=err_base,
        n_err=n_err,
        n_baseline=len(base_conc),
    )


def profile_run(model: PKModel, regimen: Regimen, n: int, args: argparse.Namespace) -> None:
    """cProfile one extra fast run (functions by own time) to show where the time goes."""
    profiler = cProfile.Profile()
    with limit_blas_threads(args.blas_threads):
        profiler.enable()
        run_fast(model, regimen, n, chunk_size=args.chunk_size, seed=args.seed, n_capture=0, console=None)
        profiler.disable()
    print(f"\ncProfile of one more N={n:,} fast run (top 15 by own time; numba kernel = propagate):")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


# -- output --------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(console: Console, rows: list[Row]) -> None:
    table = Table(title="Population PK: simulate_chunks vs per-subject solve_ivp (LSODA)")
    for name in (
        "N",
        "time s",
        "subjects/s",
        "CPU util",
        "baseline subj/s",
        "fast/base",
        "tracemalloc MiB",
        "peak RSS MiB",
        "rel err fast",
        "rel err ivp",
        "not OK",
    ):
        table.add_column(name, justify="right")
    for r in rows:
        ratio = r.subjects_per_s / r.baseline_per_s if r.baseline_per_s else None
        table.add_row(
            f"{r.n:,}",
            f"{r.seconds:.3f}",
            f"{r.subjects_per_s:,.0f}",
            f"{r.cpu_util:.2f}",
            _fmt(r.baseline_per_s, ".2f"),
            _fmt(ratio, ",.0f"),
            _fmt(r.tracemalloc_mib, ",.1f"),
            f"{r.rss_mib:,.1f}" + ("" if r.rss_reset else "*"),
            _fmt(r.err_fast, ".2e"),
            _fmt(r.err_baseline, ".2e"),
            f"{r.n - r.n_ok:,}",
        )
    console.print(table)
    print("  rel err: max relative error vs the expm reference (fast = simulate_chunks, ivp = solve_ivp baseline)")
    print(f"  CPU util: process CPU s / wall s of the timed pass ({os.cpu_count()} = all CPUs busy)")
    print("  not OK: subjects whose SubjectStatus is not OK")


def parse_sizes(text: str) -> list[int]:
    sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers, e.g. 1000,10000")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1000,10000,100000"))
    parser.add_argument(
        "--chunk-size", type=int, default=None, help="subjects per chunk (default: the library's CHUNK_BYTES chunk)"
    )
    parser.add_argument("--baseline-subjects", type=int, default=20)
    parser.add_argument("--accuracy-subjects", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--million", action="store_true", help="also stream N=1,000,000 (RSS, subjects/s)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="OpenBLAS threads during the timed runs (default: leave the library default)",
    )
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the untimed tracemalloc pass")
    parser.add_argument("--profile", action="store_true", help="cProfile one extra run of the RESULT size")
    args = parser.parse_args(argv)
    if args.chunk_size is not None and args.chunk_size < 1:
        parser.error("--chunk-size must be >= 1")

    out = Console(width=max(Console().width, 160) if sys.stdout.isatty() else 160)
    err = Console(stderr=True)
    model = default_model("racemic-ketamine")
    regimen = iv_acute_series()
    warm = warm_up(model, regimen, args.chunk_size)
    with limit_blas_threads(1):  # first calls of solve_ivp / expm paths, untimed
        tiny = run_fast(model, regimen, 2, chunk_size=2, seed=0, n_capture=2, console=None)
        assert tiny.capture is not None
        first = subjects_of(model, regimen, tiny.capture)[0]
        baseline(first, TIMES_H[:50])
        reference(first, TIMES_H[:50])

    days = sorted({int(d.time_h // 24) + 1 for d in regimen.doses})
    print("Population PK benchmark (ketamine_therapy.pharmacology)")
    print(
        f"  model {model.id} ({model.drug}), analytes {', '.join(model.analytes)}; IIV on {', '.join(model.eta_names)}"
    )
    print(f"  regimen: {len(regimen.doses)} IV infusions of 0.5 mg/kg over 40 min on days {', '.join(map(str, days))}")
    print(
        f"  output: {N_TIMES:,} times x {len(model.analytes)} analytes (every 5 min, 0-504 h), "
        f"float64; chunk size {args.chunk_size or 'library default'}; covariates sample_covariates(seed={args.seed})"
    )
    threads = blas_threads()
    blas = (
        f"OpenBLAS threads {threads} (library default)"
        if args.blas_threads is None
        else f"OpenBLAS threads {args.blas_threads} during timed runs (default {threads})"
    )
    print(
        f"  machine: {os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}, {blas}, "
        f"load average {os.getloadavg()[0]:.2f}; numpy {np.__version__}, scipy "
        f"{scipy.__version__}, numba {numba.__version__}"
    )
    print(
        f"  warm-up {warm:.2f} s (numba compile/cache load for both buffer layouts, model "
        "registry and route set-up): excluded from all timings"
    )
    print("  timed: covariate + random-effect sampling + simulate_chunks over all subjects (wall clock)")
    print(
        f"  baseline: solve_ivp LSODA rtol={RTOL:g} atol={ATOL_PER_MG:g} x dose (mg), "
        "analytic jac, piecewise between infusion breakpoints, t_eval = the same grid, "
        f"on {args.baseline_subjects} of the same subjects (integration time only)"
    )
    print(
        "  accuracy: reference = superposition of closed-form infusion solutions "
        "(scipy.linalg.expm per output time, Van Loan for the infusion integral) on "
        f"{args.accuracy_subjects} subjects spread over the population;"
    )
    print(
        "    rel err = |x - ref| / max(|ref|, 1e-6 x peak of that subject's curve), max over times, analytes, subjects"
    )
    print(
        "  memory: tracemalloc peak from a separate untimed pass (tracing slows allocation ~3x); "
        "peak RSS = ru_maxrss of the timed pass"
    )
    print(flush=True)

    rows: list[Row] = []
    for n in args.sizes:
        err.print(f"[bold]N={n:,}[/bold]")
        rows.append(run_size(model, regimen, n, args, err))
    if args.million:
        err.print(f"[bold]N={MILLION:,} (streaming)[/bold]")
        rows.append(run_size(model, regimen, MILLION, args, err, with_baseline=False, with_tracemalloc=False))

    print_table(out, rows)
    if not all(r.rss_reset for r in rows):
        print("* peak RSS is the process-lifetime maximum (could not reset it per run)")
    if args.million:
        print(f"  N={MILLION:,}: no baseline and no tracemalloc pass (RSS only)")

    regular = [r for r in rows if r.n in args.sizes]
    result = next((r for r in regular if r.n == RESULT_N), None) or max(regular, key=lambda r: r.n)
    if args.profile:
        profile_run(model, regimen, result.n, args)
    print(
        f"RESULT pk_population n={result.n} subjects_per_s={result.subjects_per_s:.1f} "
        f"baseline_subjects_per_s={_fmt(result.baseline_per_s, '.3f')} "
        f"max_rel_err={_fmt(result.err_fast, '.3e')}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
