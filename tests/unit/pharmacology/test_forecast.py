"""The per-patient forecast engine: posterior, predictions, booster advice, input errors, event tables."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from ketamine_therapy.pharmacology import InvalidInputError
from ketamine_therapy.pharmacology.forecast import (
    Covariates,
    Dose,
    ForecastRequest,
    Rating,
    ScheduleCandidate,
    forecast,
    input_hash,
    read_event_table,
)
from ketamine_therapy.pharmacology.forecast.engine import parameter_stack
from ketamine_therapy.pharmacology.forecast.kernel import draw_inputs, log_likelihood_many
from ketamine_therapy.pharmacology.forecast.posterior import find_map, laplace_covariance, sample_posterior
from ketamine_therapy.pharmacology.forecast.prepare import BASELINE_MEAN, BASELINE_SD, prepare
from ketamine_therapy.pharmacology.forecast.reparam import effects_matrix, matched_eta, separable
from ketamine_therapy.pharmacology.population import sample_covariates
from ketamine_therapy.pharmacology.response import (
    ETA_NAMES,
    PatientRecord,
    latent_course,
    load_parameters,
    log_density_many,
)
from ketamine_therapy.pharmacology.response.arms import Arm, VirtualPopulation, session_stimulus, simulate_arm
from ketamine_therapy.pharmacology.response.calibration import load_draws

PARAMS = load_parameters()
PATIENT = Covariates(weight_kg=80.0, age_y=45.0, sex="female")
SERIES_DAYS = (0, 2, 4, 7, 9, 11)  # the IV acute series, days after the first infusion
SERIES = tuple(Dose(24.0 * d, "racemic-ketamine", "iv", 40.0, 40.0) for d in SERIES_DAYS)  # 0.5 mg/kg over 40 min
RESPONDER = tuple(
    Rating(24.0 * d, "madrs", v) for d, v in [(0, 34), (1, 24), (3, 20), (5, 16), (8, 13), (10, 11), (12, 10), (14, 9)]
)


def request(ratings: tuple[Rating, ...] = RESPONDER, **changes: object) -> ForecastRequest:
    base = ForecastRequest(PATIENT, SERIES, ratings, n_draws=400, candidates=(), seed=1)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def simulated_patient(eta: np.ndarray, days: list[float], rating_days: list[float], seed: int) -> tuple[Rating, ...]:
    """Ratings of a patient with random effects ``eta`` under the point parameters, with the model's rating error."""
    doses = tuple(Dose(24.0 * d, "racemic-ketamine", "iv", 40.0, 40.0) for d in days)
    prepared = prepare(ForecastRequest(PATIENT, doses, ()))
    times = 24.0 * np.array(rating_days)
    model_times = times - prepared.origin_h
    record = dataclasses.replace(prepared.record, obs_h=model_times, obs_value=np.zeros(times.size),
                                 obs_scale=("madrs",) * times.size)  # fmt: skip
    latent = latent_course(eta, record, PARAMS, model_times)
    noise = np.random.default_rng(seed).normal(0.0, PARAMS.madrs_sigma, times.size)
    values = np.clip(np.floor(latent + noise + 0.5), 0, 60).astype(int)
    return tuple(Rating(float(t), "madrs", int(v)) for t, v in zip(times, values, strict=True))


def test_batched_likelihood_matches_the_public_log_density() -> None:
    prepared = prepare(request())
    draws = load_draws()
    rng = np.random.default_rng(0)
    eta = rng.standard_normal((12, len(ETA_NAMES)))
    theta = rng.integers(0, len(draws), 12)
    stimulus = np.broadcast_to(prepared.record.stimulus, (12, prepared.session_h.size))
    inputs = draw_inputs(parameter_stack(), theta, eta, stimulus, np.full(12, 45.0), BASELINE_MEAN, BASELINE_SD)
    batched = log_likelihood_many(inputs, prepared.session_h, prepared.obs_h, prepared.obs_value, prepared.codes)
    prior = -0.5 * (eta * eta).sum(axis=1) - 0.5 * len(ETA_NAMES) * np.log(2 * np.pi)
    for i in range(12):
        expected = log_density_many(eta[i : i + 1], prepared.record, draws[theta[i]])[0]
        assert batched[i] + prior[i] == pytest.approx(expected, rel=1e-10, abs=1e-8)


def test_map_recovers_known_random_effects_from_rich_data() -> None:
    truth = np.zeros(len(ETA_NAMES))
    truth[ETA_NAMES.index("baseline")] = 1.0
    truth[ETA_NAMES.index("drug_emax")] = 0.8
    truth[ETA_NAMES.index("expectancy")] = -0.5
    # a week of lead-in ratings (the baseline), then a series and boosters, rated every other day and the day after
    # each session; six patients with these effects, each with their own rating errors
    days = [7 + d for d in (0, 2, 4, 7, 9, 11, 18, 25, 32, 46, 60, 74)]
    rating_days = sorted({*np.arange(0.0, 7.0), *np.arange(8.0, 95.0, 2.0), *(d + 1.0 for d in days)})
    doses = tuple(Dose(24.0 * d, "racemic-ketamine", "iv", 40.0, 40.0) for d in days)
    estimates, sds = [], []
    for seed in range(6):
        prepared = prepare(ForecastRequest(PATIENT, doses, simulated_patient(truth, days, rating_days, seed)))
        estimate = find_map(prepared, PARAMS, np.random.default_rng(0))
        estimates.append(estimate)
        sds.append(np.sqrt(np.diag(laplace_covariance(prepared, PARAMS, estimate))))
        # the data say nothing about the background antidepressant effect: its MAP stays at the prior mode
        assert estimate[ETA_NAMES.index("background")] == pytest.approx(0.0, abs=1e-3)
    typical = np.median(estimates, axis=0)
    for name in ("baseline", "drug_emax", "drug_decay"):
        k = ETA_NAMES.index(name)
        assert typical[k] == pytest.approx(truth[k], abs=0.3), name
        assert np.median(sds, axis=0)[k] < 0.5, name  # identified: far narrower than the prior (SD 1)


def test_posterior_narrows_as_observations_are_added() -> None:
    truth = np.zeros(len(ETA_NAMES))
    truth[ETA_NAMES.index("baseline")] = -0.5
    ratings = simulated_patient(truth, list(SERIES_DAYS), [0, 1, 3, 5, 8, 10, 12, 14, 17, 21, 24, 28], seed=5)
    spreads, widths = [], []
    for k in (0, 2, 12):
        prepared = prepare(request(ratings[:k]))
        post = sample_posterior(prepared, PARAMS, parameter_stack(), 1000, np.random.default_rng(k))
        # generalised variance of the random effects: log det of their posterior covariance (0 for the prior)
        spreads.append(np.linalg.slogdet(np.cov(post.eta.T))[1])
        result = forecast(request(ratings[:k], n_draws=600))
        assert result.prior_only == (k == 0)
        widths.append(result.band.p95[7] - result.band.p05[7])  # 90% band a week after the last observation
    assert spreads[0] == pytest.approx(0.0, abs=0.3)
    assert spreads[0] > spreads[1] + 0.5 > spreads[2] + 1.0
    assert widths[2] < widths[0]


def test_prior_only_forecast_equals_the_population_forecast() -> None:
    result = forecast(ForecastRequest(Covariates(), SERIES, (), n_draws=3000, seed=2))
    assert result.prior_only
    assert set(result.shrinkage.values()) == {0.0}
    # the population: covariates, random effects and calibration draws sampled independently of the engine
    rng = np.random.default_rng(11)
    draws = load_draws()
    n_per_draw = 20
    n = n_per_draw * len(draws)
    covariates = sample_covariates(n, rng)
    eta = rng.standard_normal((n, len(ETA_NAMES)))
    population = VirtualPopulation(covariates, np.zeros(n), eta, rng.integers(0, 2**63, n, dtype=np.uint64))
    arm = Arm("series", "racemic-ketamine", days=tuple(d + 1.0 for d in SERIES_DAYS), dose_mg=40.0, duration_min=40.0)
    stimulus = session_stimulus(arm, population)
    times = result.band.times_h[[0, 7, 28, 70]]
    scores = []
    for j, params in enumerate(draws):
        part = slice(j * n_per_draw, (j + 1) * n_per_draw)
        sub = population.subset(part)
        effects_baseline = BASELINE_MEAN + BASELINE_SD * sub.response_eta[:, 0]
        sub = dataclasses.replace(sub, baseline_madrs=np.clip(effects_baseline, 0.0, 60.0))
        scores.append(simulate_arm(arm, sub, times, params=params, stimulus=stimulus[part]).madrs)
    pooled = np.vstack(scores)
    index = [0, 7, 28, 70]
    for q, band in ((0.5, result.band.median), (0.05, result.band.p05), (0.95, result.band.p95)):
        assert np.quantile(pooled, q, axis=0) == pytest.approx(band[index], abs=1.6), q


def test_booster_interval_shrinks_when_alpha_shrinks() -> None:
    loose = forecast(request(alpha=0.2))
    strict = forecast(request(alpha=0.05))
    assert loose.booster.next_session_h is not None
    assert strict.booster.next_session_h is not None
    assert strict.booster.next_session_h < loose.booster.next_session_h
    assert strict.booster.interval_days is not None
    assert loose.booster.interval_days is not None
    assert strict.booster.interval_days < loose.booster.interval_days
    p = strict.relapse.probability
    chosen = int(np.searchsorted(strict.relapse.times_h, strict.booster.next_session_h))
    assert p[chosen] <= 0.05 < p[chosen + 1]


def test_forecast_shapes_and_orderings() -> None:
    result = forecast(request(candidates=()))
    band = result.band
    assert np.all(band.p05 <= band.p25)
    assert np.all(band.p25 <= band.median)
    assert np.all(band.median <= band.p75)
    assert np.all(band.p75 <= band.p95)
    assert band.times_h[0] == RESPONDER[-1].time_h
    assert band.times_h[-1] == RESPONDER[-1].time_h + 84 * 24
    assert np.all(np.diff(result.relapse.probability) >= 0)
    assert "22" in result.relapse.definition
    assert "SUSTAIN-1" in result.relapse.definition
    assert len(result.what_if) == 8
    assert result.n_ratings == len(RESPONDER)
    assert len(result.input_hash) == 64
    assert "response-model" in result.model_version
    sooner = forecast(request(candidates=(ScheduleCandidate("weekly x4", tuple(
        Dose(168.0 * k, "racemic-ketamine", "iv", 40.0, 40.0) for k in range(4))),)))  # fmt: skip
    assert sooner.what_if[0].relapse_by_horizon <= result.relapse.probability[-1]


def test_missing_covariates_and_qids_ratings_are_accepted() -> None:
    ratings = (*RESPONDER[:4], Rating(RESPONDER[4].time_h, "qids-sr16", 6))
    result = forecast(request(ratings, covariates=Covariates(), scale="qids-sr16"))
    assert result.band.scale == "qids-sr16"
    assert result.band.p95.max() <= 27


def test_contradictory_ratings_warn_instead_of_failing() -> None:
    ratings = (*RESPONDER[:5], Rating(RESPONDER[4].time_h + 1.0, "madrs", 55))
    result = forecast(request(ratings))
    assert any("implausible" in w for w in result.warnings)


def test_input_hash_is_canonical() -> None:
    a = request()
    assert input_hash(a) == input_hash(dataclasses.replace(a, horizon_days=84))
    assert input_hash(a) != input_hash(dataclasses.replace(a, alpha=0.21))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ratings": (Rating(0.0, "hamd-17", 20),)}, "ratings[0].scale"),
        ({"ratings": (Rating(0.0, "phq-9", 20),)}, "ratings[0].scale"),
        ({"ratings": (Rating(0.0, "madrs", 61),)}, "ratings[0].value"),
        ({"ratings": (Rating(0.0, "qids-sr16", 28),)}, "ratings[0].value"),
        ({"ratings": (Rating(0.0, "madrs", 20.5),)}, "ratings[0].value"),  # type: ignore[arg-type]
        ({"ratings": (Rating(24.0, "madrs", 20), Rating(0.0, "madrs", 30))}, "ratings[1].time_h"),
        ({"ratings": (Rating(-1.0, "madrs", 20),)}, "ratings[0].time_h"),
        ({"doses": (SERIES[1], SERIES[0])}, "doses[1].time_h"),
        ({"doses": (Dose(0.0, "nitrous-oxide", "inhaled", 40.0),)}, "doses[0].drug"),
        ({"doses": (Dose(0.0, "esketamine", "im", 56.0),)}, "doses[0].route"),
        ({"doses": (Dose(0.0, "racemic-ketamine", "iv", 400.0, 40.0),)}, "doses[0].dose_mg"),
        ({"doses": (Dose(0.0, "racemic-ketamine", "iv", float("nan")),)}, "doses[0].amount_mg"),
        ({"scale": "bdi-ii"}, "scale"),
        ({"alpha": 1.0}, "alpha"),
        ({"horizon_days": 0.0}, "horizon_days"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        forecast(request(**changes))
    assert error.value.field == field


EVENTS = """ID,TIME,EVID,AMT,RATE,CMT,DV,SCALE,WT,AGE,SEX
p1,0,0,.,.,.,34,madrs,80,45,F
p1,0,1,40,60,iv,.,.,80,45,F
p1,24,0,.,.,.,22,madrs,80,45,F
p1,48,1,40,60,iv,.,.,80,45,F
p1,72,0,.,.,.,9,qids-sr16,80,45,F
p2,0,1,56,0,intranasal,.,.,,,
"""


def test_event_table_gives_one_request_per_patient() -> None:
    requests = read_event_table(EVENTS)
    assert list(requests) == ["p1", "p2"]
    p1 = requests["p1"]
    assert p1.covariates == Covariates(80.0, 45.0, "female")
    assert [d.duration_min for d in p1.doses] == [40.0, 40.0]
    assert [(r.scale, r.value) for r in p1.ratings] == [("madrs", 34), ("madrs", 22), ("qids-sr16", 9)]
    p2 = requests["p2"]
    assert p2.covariates == Covariates()
    assert p2.doses[0].drug == "racemic-ketamine"
    assert not p2.ratings


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("ID,TIME\np1,0\n", "EVID"),
        ("ID,TIME,EVID,AMT,CMT\np1,0,1,40,1\n", "row 2.CMT"),
        ("ID,TIME,EVID,DV\np1,x,0,3\n", "row 2.TIME"),
        ("ID,TIME,EVID,DV\np1,0,0,3.5\n", "row 2.DV"),
        ("ID,TIME,EVID,DV\np1,0,4,3\n", "row 2.EVID"),
        ("ID,TIME,EVID,DV,WT\np1,0,0,3,70\np1,1,0,3,71\n", "row 3.WT"),
    ],
)
def test_event_table_errors_name_row_and_column(text: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        read_event_table(text)
    assert error.value.field == field


def test_patient_record_of_prepared_request_is_a_valid_record() -> None:
    record = prepare(request()).record
    assert isinstance(record, PatientRecord)
    assert record.obs_h[0] == 0.0


def test_centred_parameter_move_keeps_the_effects_and_inverts() -> None:
    stack = parameter_stack()
    baseline = (BASELINE_MEAN, BASELINE_SD)
    assert separable(stack, 45.0, baseline)
    rng = np.random.default_rng(4)
    eta = rng.standard_normal((50, len(ETA_NAMES)))
    theta, other = rng.integers(0, stack.n, (2, 50))
    age = np.full(50, 45.0)
    moved, log_jac = matched_eta(stack, theta, other, eta, age, age, baseline)
    ok = np.isfinite(log_jac)
    assert ok.mean() > 0.5
    before = effects_matrix(stack, theta, eta, age, baseline)[ok]
    after = effects_matrix(stack, other, moved, age, baseline)[ok]
    assert after == pytest.approx(before, rel=1e-6, abs=1e-9)
    back, log_jac_back = matched_eta(stack, other[ok], theta[ok], moved[ok], age[ok], age[ok], baseline)
    assert back == pytest.approx(eta[ok], abs=1e-5)
    assert log_jac_back == pytest.approx(-log_jac[ok], abs=1e-3)


def test_a_repeated_request_is_served_from_the_cache_read_only() -> None:
    first = forecast(request(n_draws=200))
    again = forecast(request(n_draws=200))
    assert again is first
    with pytest.raises(ValueError, match="read-only"):
        first.band.median[0] = 0.0


def test_the_documented_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "forecast.md"
    (block,) = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    exec(compile(block, str(doc), "exec"), {})
    assert "P(relapse within 12 weeks)" in capsys.readouterr().out
