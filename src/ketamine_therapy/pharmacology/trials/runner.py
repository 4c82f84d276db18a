"""Run an in-silico trial: sample each arm's patients, stream them in chunks through the response model.

Each arm draws its whole population up front from its own child of ``SeedSequence(spec.seed)``
(covariates, baseline MADRS, response and PK random effects), then chunks of patients go through
:func:`simulate_arm` one after another, or on a ``dask.distributed`` cluster. Chunks are the same
in both cases and are combined in order, so a run is bitwise identical with or without Dask.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

import numba
import numpy as np

from .._data import load
from .._typing import FloatArray, IntArray
from ..exceptions import InvalidInputError
from ..models import PKModel
from ..response import (
    Arm,
    ArmCourse,
    ResponseParameters,
    VirtualPopulation,
    change_from_baseline,
    from_madrs,
    load_parameters,
    remission_rate,
    response_rate,
    sample_population,
    simulate_arm,
    time_to_relapse_days,
)
from ..response.observation import observe
from ..simulate import ProgressCallback
from .costs import cost_per_success, cost_until, session_prices
from .results import (
    Z95,
    ArmResult,
    Estimate,
    MeanCourse,
    TrialResult,
    estimate,
    hazard_ratio,
    km_median,
    mean,
    proportion,
    relapse_proportion,
)
from .spec import COST_KINDS, RELAPSE_KINDS, EndpointSpec, TrialSpec, check_doses, prefixed

DEFAULT_CHUNK_SIZE = 1000
"""Patients per chunk: bounds memory (the occupancy grid is ``(chunk, ~hourly points)``) and is the unit of work."""
RELAPSE_VISIT_H = 84.0
"""Relapse is assessed at twice-weekly visits (every 3.5 days) from the response assessment."""
_DECIMALS = 9  # times are rounded so that the same instant is one grid point


@dataclass(frozen=True)
class Target:
    """One endpoint of one arm: where it reads the course (h after the first dose)."""

    id: str
    kind: str
    time_h: float  # evaluation time; for relapse the response assessment (clock + offset_days)
    threshold: float | None = None
    relapse_index: IntArray | None = None  # course columns from the assessment to the horizon
    clock_h: float = 0.0  # relapse days are counted from this time (the last dose or the ``after`` day)
    scale: str = "madrs"
    by_day: float | None = None  # relapse_proportion: relapse by this day after the clock
    among_threshold: float | None = None  # relapse among remitters (score <= this) instead of responders
    reference: str | None = None  # hazard_ratio: the reference arm


@dataclass(frozen=True)
class ArmPlan:
    """What one arm evaluates: the times (h), the mean-course columns and the endpoints."""

    arm: Arm
    times_h: FloatArray
    course_index: IntArray
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class ChunkSummary:
    """Per-patient endpoint values of one chunk and the course sums (for the mean and SD)."""

    n: int
    values: dict[str, tuple[FloatArray, ...]]
    course_sum: FloatArray
    course_sum_sq: FloatArray


def _target_times(endpoint: EndpointSpec, arm: Arm) -> tuple[float, float, float]:
    """(evaluation time, relapse horizon end, relapse clock start), all in h."""
    if endpoint.kind not in RELAPSE_KINDS:
        return endpoint.time_h, endpoint.time_h, 0.0
    assert endpoint.offset_days is not None
    clock_h = float(arm.session_times_h()[-1]) if endpoint.after == "last_dose" else 24.0 * float(endpoint.after or 0)
    return clock_h + 24.0 * endpoint.offset_days, clock_h + 24.0 * endpoint.relapse_end_days, clock_h


def course_days(spec: TrialSpec) -> FloatArray:
    """Days at which the mean course is reported: every day to the last evaluation, plus endpoint days."""
    ends = [_target_times(e, a.arm)[1] for e in spec.endpoints for a in spec.arms]
    days = np.arange(0.0, np.ceil(max(ends) / 24.0) + 1.0)
    extra = [e.day for e in spec.endpoints if e.day is not None and e.kind not in RELAPSE_KINDS]
    return np.unique(np.round(np.concatenate([days, extra]), _DECIMALS))


def plan_arm(arm: Arm, endpoints: Sequence[EndpointSpec], days: FloatArray) -> ArmPlan:
    """The evaluation times of ``arm``: the course days, each endpoint time and each relapse grid."""
    parts = [days * 24.0]
    for endpoint in endpoints:
        start, end, _ = _target_times(endpoint, arm)
        parts.append(np.array([start]))
        if endpoint.kind in RELAPSE_KINDS:
            parts.append(np.arange(start, end + 1e-9, RELAPSE_VISIT_H))
    times = np.unique(np.round(np.concatenate(parts), _DECIMALS)).astype(np.float64)
    targets = []
    for endpoint in endpoints:
        start, end, clock = _target_times(endpoint, arm)
        index = None
        if endpoint.kind in RELAPSE_KINDS:
            visits = np.round(np.arange(start, end + 1e-9, RELAPSE_VISIT_H), _DECIMALS)
            index = np.searchsorted(times, visits)
        among = endpoint.threshold if endpoint.among == "remitters" else None
        by_day = endpoint.day if endpoint.kind == "relapse_proportion" else None
        targets.append(Target(endpoint.id, endpoint.kind, start, endpoint.threshold, index, clock, endpoint.scale,
                              by_day, among, endpoint.reference))  # fmt: skip
    course_index = np.searchsorted(times, np.round(days * 24.0, _DECIMALS))
    return ArmPlan(arm, times, course_index, tuple(targets))


def summarise_chunk(plan: ArmPlan, population: VirtualPopulation, params: ResponseParameters) -> ChunkSummary:
    """Simulate one chunk of patients (observed ratings on every scale the endpoints use) and reduce it."""
    madrs = simulate_arm(plan.arm, population, plan.times_h, params)
    others = {}
    for scale in {t.scale for t in plan.targets} - {"madrs"}:
        assert madrs.latent is not None
        scores = observe(madrs.latent, population.noise_key, plan.times_h, scale, params.madrs_sigma)
        base = observe(population.baseline_madrs[:, None], population.noise_key, np.zeros(1), scale,
                       params.madrs_sigma)  # fmt: skip
        others[scale] = ArmCourse(plan.times_h, scores, base[:, 0])
    return summarise_course(plan, madrs, others)


def summarise_course(
    plan: ArmPlan, madrs_course: ArmCourse, other_scales: Mapping[str, ArmCourse] | None = None
) -> ChunkSummary:
    """Per-patient endpoint values (on each endpoint's scale) and course sums of MADRS at ``plan.times_h``.

    ``other_scales`` holds the observed course on each non-MADRS scale; a scale missing there is read
    through the linear link of :func:`from_madrs` (for hand-built courses).
    """
    values: dict[str, tuple[FloatArray, ...]] = {}
    on_scale = {"madrs": madrs_course, **(other_scales or {})}
    for t in plan.targets:
        if t.scale not in on_scale:
            converted = (from_madrs(madrs_course.madrs, t.scale), from_madrs(madrs_course.baseline, t.scale))
            on_scale[t.scale] = ArmCourse(madrs_course.times_h, *converted)
        course = on_scale[t.scale]
        if t.kind in ("response", "cost_per_responder"):
            values[t.id] = (response_rate(course, t.time_h),)
        elif t.kind in ("remission", "cost_per_remitter"):
            assert t.threshold is not None
            values[t.id] = (remission_rate(course, t.time_h, t.threshold),)
        elif t.kind == "change":
            values[t.id] = (change_from_baseline(course, t.time_h),)
        else:
            assert t.relapse_index is not None
            window = ArmCourse(course.times_h[t.relapse_index], course.madrs[:, t.relapse_index], course.baseline)
            days, event = time_to_relapse_days(window, t.time_h, remission_threshold=t.among_threshold)
            values[t.id] = (days + (t.time_h - t.clock_h) / 24.0, event)
    madrs = madrs_course.madrs[:, plan.course_index]
    return ChunkSummary(madrs_course.baseline.size, values, madrs.sum(axis=0), (madrs * madrs).sum(axis=0))


Task = tuple[ArmPlan, VirtualPopulation, ResponseParameters]


def _run_local(tasks: Sequence[Task], progress: ProgressCallback | None, total: int) -> Iterator[ChunkSummary]:
    done = 0
    for task in tasks:
        summary = summarise_chunk(*task)
        done += summary.n
        if progress is not None:
            progress(done, total)
        yield summary


def _summarise_on_worker(plan: ArmPlan, population: VirtualPopulation, params: ResponseParameters) -> ChunkSummary:
    """:func:`summarise_chunk` on one numba thread: Dask already runs one chunk per core."""
    numba.set_num_threads(1)
    return summarise_chunk(plan, population, params)


def _run_dask(
    tasks: Sequence[Task],
    workers: int | None,
    scheduler: str | None,
    progress: ProgressCallback | None,
    total: int,
) -> list[ChunkSummary]:
    """Run the chunks on a ``dask.distributed`` cluster (a new LocalCluster of ``workers`` processes,
    or the scheduler at ``scheduler``) and return them in submission order."""
    from dask.distributed import Client, LocalCluster, as_completed

    with ExitStack() as stack:
        if scheduler is None:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            stack.enter_context(cluster)
            client = stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]
        else:
            try:
                client = stack.enter_context(Client(scheduler))  # type: ignore[no-untyped-call]
            except OSError as exc:
                raise InvalidInputError("scheduler", f"cannot connect to {scheduler!r}: {exc}", "a running Dask "
                                        "scheduler's address, e.g. tcp://10.0.0.5:8786") from None  # fmt: skip
        futures = [client.submit(_summarise_on_worker, *task, pure=False) for task in tasks]
        size = {f.key: task[1].n for f, task in zip(futures, tasks, strict=True)}
        done = 0
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            done += size[future.key]
            if progress is not None:
                progress(done, total)
        summaries: list[ChunkSummary] = client.gather(futures)
    return summaries


def _check_population(index: int, arm: Arm, model: PKModel, population: VirtualPopulation) -> None:
    """The sampled patients are within the model's population and dose ranges (field paths of the spec)."""
    try:
        model.check_covariates(population.covariates)
    except InvalidInputError as exc:
        raise prefixed("population", exc, {"age_y": "age"}.get(exc.field)) from None
    check_doses(arm, model, f"arms[{index}]", population.covariates.weight_kg)


def _estimate(
    target: Target, values: tuple[FloatArray, ...], cost_usd: float | None, rng: np.random.Generator
) -> Estimate:
    if target.kind in ("response", "remission"):
        return proportion(values[0])
    if target.kind == "change":
        return mean(values[0])
    if target.kind == "time_to_relapse":
        return km_median(values[0], values[1], rng)
    if target.kind == "relapse_proportion":
        assert target.by_day is not None
        return relapse_proportion(values[0], values[1], target.by_day)
    if target.kind == "hazard_ratio":  # filled in by :func:`hazard_ratios` once every arm is combined
        return Estimate(None, (None, None))
    assert cost_usd is not None
    return cost_per_success(cost_usd, int(np.count_nonzero(values[0])), int(values[0].size))


def combine_chunks(
    plan: ArmPlan,
    summaries: Sequence[ChunkSummary],
    days: FloatArray,
    prices_usd: FloatArray | None,
    rng: np.random.Generator,
) -> tuple[int, dict[str, Estimate], MeanCourse]:
    """Patients, endpoint estimates and mean course of one arm from its chunks (in order).

    ``prices_usd`` are the arm's session prices (needed by cost endpoints); ``rng`` drives the bootstrap.
    """
    n = sum(s.n for s in summaries)
    endpoints = {}
    for target in plan.targets:
        parts = [s.values[target.id] for s in summaries]
        values = tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))
        cost = None
        if prices_usd is not None and target.kind in COST_KINDS:
            cost = cost_until(prices_usd, plan.arm.session_times_h(), target.time_h)
        endpoints[target.id] = _estimate(target, values, cost, rng)
    total = np.sum([s.course_sum for s in summaries], axis=0)
    total_sq = np.sum([s.course_sum_sq for s in summaries], axis=0)
    average = total / n
    variance = np.maximum(total_sq - n * average * average, 0.0) / max(n - 1, 1)
    return n, endpoints, MeanCourse(days, average, np.sqrt(variance), n)


UNCERTAINTY = ("sampling", "parameters")
PATIENTS_PER_DRAW = 100
"""With parameter uncertainty, each posterior draw simulates a block of at least this many patients per arm."""


def _values(plan: ArmPlan, summaries: Sequence[ChunkSummary], target_id: str) -> tuple[FloatArray, ...]:
    parts = [s.values[target_id] for s in summaries]
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))


def _hazard_ratios(
    spec: TrialSpec, plans: Sequence[ArmPlan], summaries: Sequence[Sequence[ChunkSummary]]
) -> dict[tuple[int, str], Estimate]:
    """Every hazard-ratio endpoint of every arm against its reference arm (the reference itself: none)."""
    names = [a.name for a in spec.arms]
    out: dict[tuple[int, str], Estimate] = {}
    for endpoint in spec.endpoints:
        if endpoint.kind != "hazard_ratio":
            continue
        assert endpoint.reference is not None
        ref = names.index(endpoint.reference)
        days_ref, event_ref = _values(plans[ref], summaries[ref], endpoint.id)
        for i in range(len(names)):
            if i == ref:
                out[i, endpoint.id] = Estimate(None, (None, None))
                continue
            days_arm, event_arm = _values(plans[i], summaries[i], endpoint.id)
            out[i, endpoint.id] = hazard_ratio(days_arm, event_arm, days_ref, event_ref)
    return out


def _widened(kind: str, pooled: Estimate, per_draw: Sequence[Estimate]) -> Estimate:
    """``pooled`` with its 95% interval widened by the between-draw (parameter) variance.

    Each draw's estimate varies by parameter uncertainty plus its own sampling error; the parameter part is
    var(draw estimates) - mean(draw sampling variances) (floored at 0), added to the pooled sampling variance.
    Ratios, costs and durations are combined on the log scale.
    """
    log = kind in ("hazard_ratio", "time_to_relapse", *COST_KINDS)
    complete = [e for e in per_draw if e.estimate is not None and None not in e.ci95]
    if pooled.estimate is None or None in pooled.ci95 or len(complete) < 2:
        return pooled
    if log and (pooled.estimate <= 0 or any(e.estimate <= 0 or e.ci95[0] <= 0 for e in complete)):  # type: ignore[operator]
        return pooled

    def f(x: float | None) -> float:
        assert x is not None
        return math.log(x) if log else x

    centres = np.array([f(e.estimate) for e in complete])
    sampling = np.array([(f(e.ci95[1]) - f(e.ci95[0])) / (2 * Z95) for e in complete])
    parameter_var = max(float(np.var(centres, ddof=1) - np.mean(sampling**2)), 0.0)
    own = (f(pooled.ci95[1]) - f(pooled.ci95[0])) / (2 * Z95)
    half = Z95 * math.sqrt(parameter_var + own**2)
    centre = f(pooled.estimate)
    low, high = centre - half, centre + half
    if log:
        return estimate(pooled.estimate, math.exp(low), math.exp(high))
    if kind in ("response", "remission", "relapse_proportion"):
        low, high = max(low, 0.0), min(high, 1.0)
    return estimate(pooled.estimate, low, high)


def run_trial(
    spec: TrialSpec,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    uncertainty: str = "sampling",
) -> TrialResult:
    """Simulate every arm of ``spec`` and estimate its endpoints.

    ``workers`` starts a local ``dask.distributed`` cluster of that many processes; ``scheduler``
    uses an existing one (its workers need this package). ``progress(done, total)`` is called
    after each chunk with patient counts over all arms. ``uncertainty="parameters"`` splits each arm's
    patients into blocks, one per posterior parameter draw (``data/response_posterior.yaml``), and widens
    every interval by the between-draw variance; ``"sampling"`` uses the calibrated parameters only.
    """
    if isinstance(chunk_size, bool) or chunk_size < 1:
        raise InvalidInputError("chunk_size", f"got {chunk_size}", ">= 1 patients")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise InvalidInputError("workers", f"got {workers}", ">= 1")
    if workers is not None and scheduler is not None:
        raise InvalidInputError("workers", "give workers or a scheduler address, not both", "one of the two")
    if uncertainty not in UNCERTAINTY:
        raise InvalidInputError("uncertainty", f"got {uncertainty!r}", ", ".join(UNCERTAINTY))
    p = spec.population
    if uncertainty == "parameters":
        from ..response.calibration import load_draws

        draws = load_draws()
        draws = draws[: max(2, min(len(draws), p.n // PATIENTS_PER_DRAW))]
        if p.n < 2 * PATIENTS_PER_DRAW:
            raise InvalidInputError("population.n", f"{p.n} is too few for parameter uncertainty",
                                    f">= {2 * PATIENTS_PER_DRAW} patients per arm")  # fmt: skip
    else:
        draws = [load_parameters()]
    edges = np.linspace(0, p.n, len(draws) + 1).round().astype(int)
    slices = [(b, slice(s, min(s + chunk_size, edges[b + 1]))) for b in range(len(draws))
              for s in range(edges[b], edges[b + 1], chunk_size)]  # fmt: skip
    days = course_days(spec)
    priced = any(e.kind in COST_KINDS for e in spec.endpoints)
    prices = session_prices([(a.arm, a.price_usd) for a in spec.arms], spec.prices) if priced else None
    seeds = np.random.SeedSequence(spec.seed).spawn(len(spec.arms))
    plans: list[ArmPlan] = []
    bootstrap: list[np.random.Generator] = []
    tasks: list[Task] = []
    for i, arm_spec in enumerate(spec.arms):
        arm = arm_spec.arm
        model = arm.pk_model() if arm.is_active else None
        population_seed, bootstrap_seed = seeds[i].spawn(2)
        population = sample_population(
            p.n, np.random.default_rng(population_seed), baseline_madrs=(p.baseline_madrs.mean, p.baseline_madrs.sd),
            weight_kg=(p.weight_kg.mean, p.weight_kg.sd), age_y=(p.age.mean, p.age.sd),
            models=[model] if model is not None else [],
        )  # fmt: skip
        if model is not None:
            _check_population(i, arm, model, population)
        plans.append(plan_arm(arm, spec.endpoints, days))
        bootstrap.append(np.random.default_rng(bootstrap_seed))
        tasks += [(plans[-1], population.subset(part), draws[block]) for block, part in slices]
    total = p.n * len(spec.arms)
    if workers is None and scheduler is None:
        summaries: Sequence[ChunkSummary] = list(_run_local(tasks, progress, total))
    else:
        summaries = _run_dask(tasks, workers, scheduler, progress, total)
    per_arm = [summaries[i * len(slices) : (i + 1) * len(slices)] for i in range(len(spec.arms))]
    ratios = _hazard_ratios(spec, plans, per_arm)
    by_draw: list[dict[tuple[int, str], Estimate]] = []
    draw_results: list[list[dict[str, Estimate]]] = []
    if len(draws) > 1:
        for block in range(len(draws)):
            own = [
                [s for (b, _), s in zip(slices, arm_summaries, strict=True) if b == block] for arm_summaries in per_arm
            ]
            by_draw.append(_hazard_ratios(spec, plans, own))
            draw_results.append([
                combine_chunks(plan, own[i], days, None if prices is None else prices[i], bootstrap[i])[1]
                for i, plan in enumerate(plans)
            ])  # fmt: skip
    arms = []
    for i, (arm_spec, plan) in enumerate(zip(spec.arms, plans, strict=True)):
        arm = arm_spec.arm
        arm_prices = None if prices is None else prices[i]
        n, endpoints, course = combine_chunks(plan, per_arm[i], days, arm_prices, bootstrap[i])
        for endpoint in spec.endpoints:
            if endpoint.kind == "hazard_ratio":
                endpoints[endpoint.id] = ratios[i, endpoint.id]
            if len(draws) > 1:
                per_draw = [d[i, endpoint.id] if endpoint.kind == "hazard_ratio" else r[i][endpoint.id]
                            for d, r in zip(by_draw, draw_results, strict=True)]  # fmt: skip
                endpoints[endpoint.id] = _widened(endpoint.kind, endpoints[endpoint.id], per_draw)
        arms.append(ArmResult(
            arm.name, arm.drug, None if arm.route is None else str(arm.route),
            arm.pk_model().id if arm.is_active else None, n, endpoints, course,
            None if arm_prices is None else tuple(float(x) for x in arm_prices),
        ))  # fmt: skip
    version = str(load("response_model.yaml").get("version", "unknown"))
    if len(draws) > 1:
        version += f" (+ parameter uncertainty, {len(draws)} posterior draws)"
    return TrialResult(spec.name, spec.seed, tuple(arms), {e.id: e.kind for e in spec.endpoints}, version)
