"""In-silico trial specs, estimators, endpoint reduction and costs."""

from __future__ import annotations

import copy
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from ketamine_therapy.pharmacology.exceptions import InvalidInputError
from ketamine_therapy.pharmacology.regimen import Route
from ketamine_therapy.pharmacology.response import Arm, ArmCourse
from ketamine_therapy.pharmacology.trials import parse_spec, run_trial
from ketamine_therapy.pharmacology.trials.costs import cost_per_success, cost_until, default_prices, session_prices
from ketamine_therapy.pharmacology.trials.results import km_median, km_medians, mean, proportion, wilson_interval
from ketamine_therapy.pharmacology.trials.runner import combine_chunks, course_days, plan_arm, summarise_course

IV = {"name": "ketamine", "drug": "racemic-ketamine", "route": "iv", "dose_mg_per_kg": 0.5, "days": [1, 3, 5]}
BASE: dict[str, Any] = {
    "name": "unit",
    "seed": 3,
    "population": {"n": 120},
    "arms": [IV, {"name": "placebo", "drug": "placebo", "days": [1, 3, 5]}],
    "endpoints": [
        {"id": "response_d1", "kind": "response", "day": 1},
        {"id": "remission_d7", "kind": "remission", "day": 7},
        {"id": "change_d7", "kind": "change", "day": 7},
        {"id": "relapse", "kind": "time_to_relapse", "horizon_days": 30},
        {"id": "cost_responder_d7", "kind": "cost_per_responder", "day": 7},
    ],
}


def spec_with(path: str, value: Any) -> dict[str, Any]:
    """``BASE`` with the value at a dotted path (``arms.0.drug``) replaced; ``...`` deletes it."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    index: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[index]
    else:
        node[index] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("colour", "blue", "colour"),
        ("arms.0.dose_mgkg", 0.5, "arms[0].dose_mgkg"),
        ("arms.0.drug", "aspirin", "arms[0].drug"),
        ("arms.0.dose_mg_per_kg", -0.5, "arms[0].dose_mg_per_kg"),
        ("arms.0.dose_mg_per_kg", "half", "arms[0].dose_mg_per_kg"),
        ("arms.0.dose_mg_per_kg", 2.0, "arms[0].dose_mg_per_kg"),
        ("arms.0.days", ..., "arms[0].days"),
        ("arms.0.days", [3, 1], "arms[0].days"),
        ("arms.0.days", [0, 2], "arms[0].days[0]"),
        ("arms.0.route", "topical", "arms[0].route"),
        ("arms.0.duration_min", -1, "arms[0].duration_min"),
        ("arms.0.doses_mg", [1, 2, 3], "arms[0].dose_mg"),
        ("arms.0.model", "nonexistent", "arms[0].model"),
        ("arms.0.background", "therapy", "arms[0].background"),
        ("arms.1.name", "ketamine", "arms[1].name"),
        ("arms.1.model", "clements-1981", "arms[1].model"),
        ("endpoints.0.kind", "survival", "endpoints[0].kind"),
        ("endpoints.0.day", ..., "endpoints[0].day"),
        ("endpoints.0.day", -1, "endpoints[0].day"),
        ("endpoints.0.scale", "hamd", "endpoints[0].scale"),
        ("endpoints.0.threshold", 10, "endpoints[0].threshold"),
        ("endpoints.1.id", "response_d1", "endpoints[1].id"),
        ("endpoints.3.after", "first_dose", "endpoints[3].after"),
        ("endpoints.3.horizon_days", 0.5, "endpoints[3].horizon_days"),
        ("population.n", 0, "population.n"),
        ("population.weight_kg", {"mean": 80}, "population.weight_kg.sd"),
        ("population.age", {"mean": 10, "sd": 1}, "population.age.mean"),
        ("prices", {"spa": 10}, "prices.spa"),
        ("prices", {"iv": -5}, "prices.iv"),
        ("seed", 1.5, "seed"),
    ],
)
def test_spec_errors_name_their_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_spec(spec_with(path, value))
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert info.value.allowed


def test_spec_errors_from_the_pk_model_name_the_arm_field() -> None:
    nasal = {"name": "esk", "drug": "esketamine", "doses_mg": [56, 70], "days": [1, 4]}
    with pytest.raises(InvalidInputError) as info:
        parse_spec(spec_with("arms.0", nasal))
    assert info.value.field == "arms[0].doses_mg[1]"
    assert "28" in str(info.value.allowed)
    with pytest.raises(InvalidInputError) as info:
        parse_spec(spec_with("arms.0", {**IV, "drug": "s-ketamine", "route": "intranasal"}))
    assert info.value.field == "arms[0].route"


def test_cost_endpoints_need_a_price_for_every_route() -> None:
    oral = {"name": "oral", "drug": "racemic-ketamine", "route": "oral", "dose_mg": 25, "days": [1]}
    with pytest.raises(InvalidInputError) as info:
        parse_spec(spec_with("arms.0", oral))
    assert info.value.field == "prices.oral"
    assert parse_spec({**spec_with("arms.0", oral), "prices": {"oral": 40}}).prices["oral"] == 40
    no_costs = spec_with("arms.0", oral)
    no_costs["endpoints"] = no_costs["endpoints"][:4]
    assert parse_spec(no_costs).prices["oral"] is None


def test_spec_defaults() -> None:
    spec = parse_spec(spec_with("arms.1", {"name": "esk", "drug": "esketamine", "dose_mg": 56, "days": [1, 4]}))
    ketamine, esketamine = (a.arm for a in spec.arms)
    assert ketamine.duration_min == 40.0
    assert esketamine.route is Route.INTRANASAL
    assert esketamine.duration_min == 0.0
    remission, relapse = spec.endpoints[1], spec.endpoints[3]
    assert remission.threshold == 9.0  # MADRS < 10 (Hawley 2002), as the clinic
    assert (relapse.after, relapse.offset_days, relapse.horizon_days) == ("last_dose", 1.0, 30.0)
    assert spec.population.baseline_madrs.mean == 33.0
    assert spec.prices == default_prices()
    relapse_at = parse_spec(spec_with("endpoints.3.after", 10)).endpoints[3]
    assert (relapse_at.after, relapse_at.offset_days) == (10.0, 1.0)


def test_wilson_and_normal_intervals() -> None:
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    rate = proportion(np.array([1.0, 0.0, 1.0, 1.0]))
    assert rate.estimate == 0.75
    assert rate.ci95[0] is not None
    assert rate.ci95[0] < 0.75 < rate.ci95[1]  # type: ignore[operator]
    m = mean(np.array([1.0, 2.0, 3.0, 4.0]))
    half = 1.959963984540054 * np.std([1, 2, 3, 4], ddof=1) / 2
    assert m.estimate == 2.5
    assert m.ci95 == pytest.approx((2.5 - half, 2.5 + half))
    assert m.to_dict() == {"estimate": 2.5, "ci95": list(m.ci95)}


def test_km_median_bootstrap_is_seeded_and_brackets_the_median() -> None:
    days = np.arange(1.0, 41.0)
    event = np.ones(40)
    first = km_median(days, event, np.random.default_rng(1))
    assert first.estimate == 20.0
    assert first.ci95[0] is not None
    assert first.ci95[1] is not None
    assert first.ci95[0] <= 20.0 <= first.ci95[1]
    assert km_median(days, event, np.random.default_rng(1)) == first
    never = km_median(days, np.zeros(40), np.random.default_rng(1))
    assert never.estimate is None
    assert never.to_dict() == {"estimate": None, "ci95": [None, None]}


def test_km_medians_match_exact_arithmetic() -> None:
    """Kaplan-Meier medians from counts equal a rational-arithmetic KM, exact 0.5 survival included."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        m = int(rng.integers(1, 40))
        days = rng.integers(0, 12, m) / 4.0
        event = (rng.random(m) < rng.random()).astype(np.float64)
        survival, expected, at_risk = Fraction(1), math.inf, m
        for t in np.unique(days):
            relapsed = int(np.sum((days == t) & (event == 1)))
            survival *= Fraction(at_risk - relapsed, at_risk)
            if survival <= Fraction(1, 2):
                expected = float(t)
                break
            at_risk -= int(np.sum(days == t))
        times, cell = np.unique(days, return_inverse=True)
        counts = np.bincount(cell + times.size * (event == 0), minlength=2 * times.size).astype(np.float64)
        assert km_medians(times, counts[None, : times.size], counts[None, times.size :])[0] == expected


def test_endpoints_on_a_hand_built_course() -> None:
    """Three patients (baseline 30): a durable remitter, a responder who relapses 5 days after the last dose, and a
    non-responder."""
    spec = parse_spec(BASE)
    arm = spec.arms[0].arm  # last dose on day 5 (t = 96 h)
    days = course_days(spec)
    plan = plan_arm(arm, spec.endpoints, days)
    t = plan.times_h
    madrs = np.vstack([
        np.where(t > 0, 8.0, 30.0),
        np.where((t > 0) & (t < 96 + 5 * 24), 14.0, 29.0),
        np.full(t.size, 25.0),
    ])  # fmt: skip
    summary = summarise_course(plan, ArmCourse(t, madrs, np.full(3, 30.0)))
    assert summary.values["response_d1"][0].tolist() == [1, 1, 0]
    assert summary.values["remission_d7"][0].tolist() == [1, 0, 0]
    assert summary.values["change_d7"][0].tolist() == [-22, -16, -5]
    relapse_days, relapsed = summary.values["relapse"]
    # twice-weekly visits from day 1 after the last dose (days 1, 4.5, 8, ..., 29); relapse confirmed at two
    # consecutive visits is dated at the first (day 8); the remitter is censored at the last visit (day 29)
    assert relapse_days.tolist() == [29.0, 8.0]
    assert relapsed.tolist() == [0, 1]
    prices = np.full(3, 450.0)
    n, estimates, course = combine_chunks(plan, [summary, summary], days, prices, np.random.default_rng(0))
    assert n == 6
    assert estimates["response_d1"].estimate == pytest.approx(2 / 3)
    assert estimates["change_d7"].estimate == pytest.approx((-22 - 16 - 5) / 3)
    assert estimates["relapse"].estimate == 8.0  # KM: half the responders relapse at day 8 -> survival 0.5
    assert estimates["cost_responder_d7"].estimate == pytest.approx(3 * 450 / (2 / 3))  # 3 sessions; 2 of 3 respond
    assert course.mean[0] == pytest.approx(np.mean([30, 29, 25]))
    assert course.sd[0] == pytest.approx(np.std([30, 29, 25, 30, 29, 25], ddof=1))


def test_session_prices_and_cost_arithmetic() -> None:
    prices = default_prices()
    iv = Arm("iv", "racemic-ketamine", (1, 3), route=Route.IV, dose_mg_per_kg=0.5, duration_min=40)
    spravato = Arm("esk", "esketamine", (1, 4, 8), doses_mg=(56.0, 84.0, 28.0))
    placebo = Arm("pbo", "placebo", (1, 4))
    iv_p, esk_p, pbo_p, own_p = session_prices([(iv, None), (spravato, None), (placebo, None), (placebo, 12.5)], prices)
    assert iv_p.tolist() == [450.0, 450.0]
    assert esk_p.tolist() == [590.0, 885.0, 295.0]  # $295 per 28 mg device
    assert pbo_p.tolist() == [450.0, 450.0]  # imitates the first active arm
    assert own_p.tolist() == [12.5, 12.5]
    flat = session_prices([(spravato, None)], {**prices, "esketamine_session": 700.0})[0]
    assert flat.tolist() == [700.0] * 3
    with pytest.raises(InvalidInputError) as info:
        session_prices([(placebo, None)], prices)
    assert info.value.field == "arms[0].price_usd"
    assert cost_until(esk_p, spravato.session_times_h(), 3 * 24.0) == 590.0 + 885.0
    assert cost_until(esk_p, spravato.session_times_h(), 7 * 24.0) == 590.0 + 885.0 + 295.0
    per_responder = cost_per_success(900.0, 25, 100)
    low, high = wilson_interval(25, 100)
    assert per_responder.estimate == pytest.approx(3600.0)
    assert per_responder.ci95 == pytest.approx((900.0 / high, 900.0 / low))
    assert cost_per_success(900.0, 0, 100).estimate is None


def test_run_trial_shape_and_chunk_independence() -> None:
    spec = parse_spec(BASE)
    result = run_trial(spec, chunk_size=50).to_dict()
    assert set(result) == {"arms"}
    assert list(result["arms"]) == ["ketamine", "placebo"]
    for arm in result["arms"].values():
        assert arm["n"] == 120
        assert set(arm["endpoints"]) == {e["id"] for e in BASE["endpoints"]}
        for endpoint_id, value in arm["endpoints"].items():
            assert set(value) == {"estimate", "ci95"}
            low, high = value["ci95"]
            if endpoint_id != "relapse":
                assert low <= value["estimate"] <= high
        assert 0 <= arm["endpoints"]["response_d1"]["estimate"] <= 1
    assert result["arms"]["ketamine"]["session_prices_usd"] == [450.0] * 3
    other = run_trial(spec, chunk_size=120).to_dict()
    for name, arm in result["arms"].items():
        assert arm["endpoints"] == other["arms"][name]["endpoints"]
        assert arm["mean_course"]["mean"] == pytest.approx(other["arms"][name]["mean_course"]["mean"], rel=1e-12)


def test_run_trial_rejects_bad_options() -> None:
    spec = parse_spec(BASE)
    for kwargs, field in (({"chunk_size": 0}, "chunk_size"), ({"workers": 0}, "workers"),
                          ({"workers": 2, "scheduler": "tcp://x:1"}, "workers")):  # fmt: skip
        with pytest.raises(InvalidInputError) as info:
            run_trial(spec, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field


def test_qids_sr16_endpoints_use_the_carmody_link_and_its_remission_threshold() -> None:
    """QIDS-SR16 endpoints read the MADRS course through the Carmody 2006 link; remission default <= 5 (STAR*D)."""
    data = copy.deepcopy(BASE)
    data["population"] = {"n": 300}
    data["endpoints"] = [
        {"id": "resp_madrs", "kind": "response", "scale": "madrs", "day": 1},
        {"id": "resp_qids", "kind": "response", "scale": "qids-sr16", "day": 1},
        {"id": "remit_qids", "kind": "remission", "scale": "qids-sr16", "day": 7},
    ]
    spec = parse_spec(data)
    assert {e.id: e.threshold for e in spec.endpoints}["remit_qids"] == 5.0
    endpoints = run_trial(spec).to_dict()["arms"][spec.arms[0].name]["endpoints"]
    assert 0 < endpoints["resp_qids"]["estimate"] <= endpoints["resp_madrs"]["estimate"]
    with pytest.raises(InvalidInputError) as info:
        parse_spec(spec_with("endpoints.0", {"id": "r", "kind": "remission", "scale": "qids-sr16", "threshold": 40,
                                             "day": 7}))  # fmt: skip
    assert info.value.field == "endpoints[0].threshold"
    assert info.value.allowed == "0-27"


def _partial_log_likelihood(beta: float, days: np.ndarray, event: np.ndarray, group: np.ndarray) -> float:
    """Breslow partial log-likelihood written out directly (an independent check of the Newton solver)."""
    total = 0.0
    for t in np.unique(days[event > 0]):
        dying = (days == t) & (event > 0)
        at_risk = days >= t
        total += beta * group[dying].sum() - dying.sum() * math.log(np.sum(np.exp(beta * group[at_risk])))
    return total


def test_cox_hazard_ratio_maximises_the_breslow_partial_likelihood() -> None:
    from ketamine_therapy.pharmacology.trials.results import cox_log_hazard_ratio, hazard_ratio

    rng = np.random.default_rng(4)
    a = np.ceil(rng.exponential(20.0, 60))  # integer days: ties
    b = np.ceil(rng.exponential(10.0, 70))
    days = np.minimum(np.concatenate([a, b]), 30.0)
    event = (np.concatenate([a, b]) <= 30.0).astype(float)
    group = np.concatenate([np.ones(60), np.zeros(70)])
    beta, se = cox_log_hazard_ratio(days, event, group)
    grid = np.linspace(beta - 0.05, beta + 0.05, 11)
    values = [_partial_log_likelihood(g, days, event, group) for g in grid]
    assert int(np.argmax(values)) == 5  # the estimate is the maximiser
    curvature = -(values[6] - 2 * values[5] + values[4]) / 0.01**2
    assert se == pytest.approx(1 / math.sqrt(curvature), rel=0.02)
    assert -1.2 < beta < -0.2  # true log HR = log(10/20) = -0.69
    ratio = hazard_ratio(days[:60], event[:60], days[60:], event[60:])
    assert ratio.estimate == pytest.approx(math.exp(beta))
    assert ratio.ci95[0] < ratio.estimate < ratio.ci95[1]  # type: ignore[operator]
    assert hazard_ratio(days[:60], np.zeros(60), days[60:], event[60:]).estimate is None


def test_relapse_proportion_is_one_minus_kaplan_meier() -> None:
    from ketamine_therapy.pharmacology.trials.results import relapse_proportion

    days = np.array([2.0, 3.0, 3.0, 5.0, 8.0, 9.0])
    event = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    # survival: day 2 5/6, day 3 (4/5), day 5 (2/3) -> by day 6: 1 - 5/6 * 4/5 * 2/3
    assert relapse_proportion(days, event, 6.0).estimate == pytest.approx(1 - 5 / 6 * 4 / 5 * 2 / 3)
    assert relapse_proportion(days, event, 1.0).estimate == 0.0
    assert relapse_proportion(np.array([]), np.array([]), 5.0).estimate is None


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [
        ({"id": "hr", "kind": "hazard_ratio"}, "endpoints[0].reference"),
        ({"id": "hr", "kind": "hazard_ratio", "reference": "nobody"}, "endpoints[0].reference"),
        ({"id": "hr", "kind": "hazard_ratio", "reference": "placebo", "day": 3}, "endpoints[0].day"),
        ({"id": "rp", "kind": "relapse_proportion", "day": 30, "among": "everyone"}, "endpoints[0].among"),
        ({"id": "rp", "kind": "relapse_proportion"}, "endpoints[0].day"),
        ({"id": "rp", "kind": "relapse_proportion", "day": 30, "horizon_days": 40}, "endpoints[0].horizon_days"),
        ({"id": "rp", "kind": "relapse_proportion", "day": 0.5}, "endpoints[0].day"),
        ({"id": "rp", "kind": "response", "day": 3, "reference": "placebo"}, "endpoints[0].reference"),
    ],
)
def test_relapse_endpoint_errors_name_their_field(endpoint: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_spec(spec_with("endpoints.0", endpoint))
    assert info.value.field == field


def test_run_trial_relapse_proportion_and_hazard_ratio() -> None:
    data = copy.deepcopy(BASE)
    data["population"] = {"n": 400}
    data["endpoints"] = [
        {"id": "relapse_d30", "kind": "relapse_proportion", "day": 30},
        {"id": "relapse_d30_remitters", "kind": "relapse_proportion", "day": 30, "among": "remitters"},
        {"id": "hr", "kind": "hazard_ratio", "reference": "placebo", "horizon_days": 40},
    ]
    result = run_trial(parse_spec(data)).to_dict()["arms"]
    assert result["placebo"]["endpoints"]["hr"] == {"estimate": None, "ci95": [None, None]}
    for arm in result.values():
        value = arm["endpoints"]["relapse_d30"]
        assert value["estimate"] is None or 0 <= value["ci95"][0] <= value["estimate"] <= value["ci95"][1] <= 1
    hr = result["ketamine"]["endpoints"]["hr"]
    assert hr["estimate"] is None or hr["ci95"][0] < hr["estimate"] < hr["ci95"][1]


def test_parameter_uncertainty_adds_the_between_draw_variance() -> None:
    from ketamine_therapy.pharmacology.trials.results import Z95, Estimate
    from ketamine_therapy.pharmacology.trials.runner import _widened

    def normal(centre: float, se: float) -> Estimate:
        return Estimate(centre, (centre - Z95 * se, centre + Z95 * se))

    pooled = normal(-10.0, 0.5)
    # per-draw estimates: centres with SD 2, each with sampling SE 1 -> parameter variance 4 - 1 = 3
    centres = [-12.0, -10.0, -8.0, -10.0 + 2 * math.sqrt(2), -10.0 - 2 * math.sqrt(2)]
    sd = float(np.std(centres, ddof=1))
    widened = _widened("change", pooled, [normal(c, 1.0) for c in centres])
    assert widened.estimate == -10.0
    low, high = widened.ci95
    assert high - low == pytest.approx(2 * Z95 * math.sqrt(sd**2 - 1.0 + 0.25))  # type: ignore[operator]
    # draws that vary less than their own sampling error add nothing
    assert _widened("change", pooled, [normal(c, 5.0) for c in centres]).ci95 == pytest.approx(pooled.ci95)
    # proportions stay within 0-1; ratios are widened on the log scale
    rate = _widened("response", normal(0.9, 0.01), [normal(c, 0.01) for c in (0.7, 0.9, 1.0)])
    assert 0.0 <= rate.ci95[0] <= rate.ci95[1] <= 1.0  # type: ignore[operator]
    ratio = _widened("hazard_ratio", Estimate(0.5, (0.4, 0.625)), [Estimate(x, (x * 0.8, x / 0.8)) for x in (0.3, 0.8)])
    assert ratio.ci95[0] * ratio.ci95[1] == pytest.approx(0.25)  # type: ignore[operator]
