"""Properties of the antidepressant-response model and its endpoints."""

from __future__ import annotations

import numpy as np
import pytest

from ketamine_therapy.pharmacology import InvalidInputError, get_model
from ketamine_therapy.pharmacology.response import (
    Arm,
    ArmCourse,
    change_from_baseline,
    kaplan_meier_median,
    remission_rate,
    response_rate,
    sample_population,
    simulate_arm,
    time_to_relapse_days,
)

TIMES = np.array([0.0, 2.0, 24.0, 72.0, 168.0, 336.0])


@pytest.fixture(scope="module")
def population():
    rng = np.random.default_rng(5)
    return sample_population(400, rng, models=[get_model("clements-1981"), get_model("perez-ruixo-2021")])


def _iv(mg_per_kg: float, days: tuple[float, ...] = (1.0,)) -> Arm:
    return Arm("iv", "racemic-ketamine", days=days, dose_mg_per_kg=mg_per_kg, duration_min=40)


def test_latent_course_stays_between_zero_and_baseline_and_ratings_are_bounded_integers(population) -> None:
    course = simulate_arm(_iv(0.5), population, TIMES)
    assert course.latent is not None
    assert np.all(course.latent >= 0)
    assert np.all(course.latent <= population.baseline_madrs[:, None] + 1e-12)
    np.testing.assert_allclose(course.latent[:, 0], population.baseline_madrs)
    assert np.all((course.madrs >= 0) & (course.madrs <= 60) & (course.madrs == np.round(course.madrs)))
    inside = (course.latent > 10) & (course.latent < 50)  # away from the bounds, where clipping biases the error
    error = (course.madrs - course.latent)[inside]  # rating error: N(0, sigma) rounded; SE of the mean ~0.07
    assert abs(error.mean()) < 0.25
    assert 2.5 < error.std() < 3.4


def test_more_drug_more_effect_graded_over_the_clinical_range(population) -> None:
    changes = [change_from_baseline(simulate_arm(_iv(d), population, TIMES), 24.0).mean() for d in (0.1, 0.2, 0.5, 1.0)]
    assert changes[3] < changes[2] < changes[1] < changes[0] < 0


def test_placebo_has_no_drug_effect_but_an_expectancy_effect(population) -> None:
    placebo = simulate_arm(Arm("pbo", "placebo", days=(1.0,)), population, TIMES)
    active = simulate_arm(_iv(0.5), population, TIMES)
    assert change_from_baseline(placebo, 2.0).mean() < 0
    assert placebo.latent is not None
    assert active.latent is not None
    assert np.all(placebo.latent >= active.latent - 1e-9)  # same patients: the drug only adds improvement
    assert 0.0 < response_rate(placebo, 24.0).mean() < response_rate(active, 24.0).mean()  # placebo responders exist


def test_repeated_infusions_accumulate_and_maintenance_holds_the_effect(population) -> None:
    times = np.array([0.0, 12 * 24.0])
    one = simulate_arm(_iv(0.5), population, times)
    six = simulate_arm(_iv(0.5, (1, 3, 5, 8, 10, 12)), population, times)
    assert response_rate(six, 12 * 24.0).mean() > response_rate(one, 12 * 24.0).mean()
    # weekly sessions for 8 weeks vs the same first 4 weeks then placebo sessions: same patients, day 56
    days = tuple(1.0 + 7.0 * k for k in range(9))
    kept = Arm("kept", "racemic-ketamine", days, doses_mg=(40.0,) * 9)
    stopped = Arm("stopped", "racemic-ketamine", days, doses_mg=(40.0,) * 5 + (0.0,) * 4)
    late = np.array([0.0, 56 * 24.0])
    kept_course, stopped_course = (simulate_arm(a, population, late) for a in (kept, stopped))
    assert kept_course.latent is not None
    assert stopped_course.latent is not None
    assert np.all(kept_course.latent[:, 1] <= stopped_course.latent[:, 1] + 1e-9)
    assert kept_course.latent[:, 1].mean() < stopped_course.latent[:, 1].mean() - 1.0


def test_background_antidepressant_only_where_switched_on(population) -> None:
    days = (1.0, 4.0)
    plain = simulate_arm(Arm("p", "placebo", days=days), population, np.array([0.0, 28 * 24.0]))
    with_ad = simulate_arm(Arm("p", "placebo", days=days, background="new-oral-antidepressant"), population,
                           np.array([0.0, 28 * 24.0]))  # fmt: skip
    assert change_from_baseline(with_ad, 28 * 24.0).mean() < change_from_baseline(plain, 28 * 24.0).mean()


def test_esketamine_arm_with_per_session_doses(population) -> None:
    arm = Arm("esk", "esketamine", days=(1.0, 4.0), doses_mg=(56.0, 84.0))
    assert [d.amount_mg for d in arm.regimen().doses] == [56.0, 84.0]
    course = simulate_arm(arm, population, TIMES)
    assert change_from_baseline(course, 24.0).mean() < 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"drug": "aspirin", "days": (1.0,)}, "drug"),
        ({"drug": "placebo", "days": ()}, "days"),
        ({"drug": "placebo", "days": (3.0, 1.0)}, "days"),
        ({"drug": "placebo", "days": (1.0,), "background": "tea"}, "background"),
        ({"drug": "placebo", "days": (1.0,), "setting": "icu"}, "setting"),
        ({"drug": "racemic-ketamine", "days": (1.0,)}, "dose"),
    ],
)
def test_bad_arms_name_their_field(kwargs, field) -> None:
    with pytest.raises(InvalidInputError) as exc:
        Arm("a", **kwargs)
    assert exc.value.field == field


def test_endpoints_on_a_hand_built_course() -> None:
    times = np.array([0.0, 24.0, 48.0, 72.0])
    madrs = np.array([[30, 10, 20, 20], [30, 14, 14, 16], [30, 29, 29, 29], [20, 9, 9, 9.0]])
    course = ArmCourse(times, madrs, madrs[:, 0].copy())
    assert response_rate(course, 24.0).tolist() == [1, 1, 0, 1]
    assert remission_rate(course, 24.0, 10).tolist() == [1, 0, 0, 1]
    assert change_from_baseline(course, 24.0).tolist() == [-20, -16, -1, -11]
    days, event = time_to_relapse_days(course, 24.0, confirm=1)
    assert days.tolist() == [1.0, 2.0, 2.0]  # patient 2 loses response on day 2; patient 4 is censored
    assert event.tolist() == [1.0, 1.0, 0.0]
    days, event = time_to_relapse_days(course, 24.0)  # confirmed at two consecutive visits
    assert days.tolist() == [1.0, 2.0, 2.0]  # patient 2's loss at the last visit is not confirmed: censored
    assert event.tolist() == [1.0, 0.0, 0.0]


def test_kaplan_meier_median() -> None:
    assert kaplan_meier_median(np.array([1.0, 2, 3, 4, 5]), np.ones(5)) == 3.0
    assert kaplan_meier_median(np.array([1.0, 2, 3]), np.zeros(3)) == float("inf")


def test_qids_link_reproduces_carmody_anchor() -> None:
    """Carmody 2006: QIDS-SR16 5 is comparable to MADRS 7.5 (IRT); the linear link gives 4.9."""
    from ketamine_therapy.pharmacology.response import from_madrs

    assert from_madrs(np.array([7.5]), "qids-sr16")[0] == pytest.approx(5.0, abs=0.25)
    low, high = from_madrs(np.array([0.0, 60.0]), "qids-sr16")
    assert 0.0 <= low < 2.0
    assert high == 27.0
    np.testing.assert_array_equal(from_madrs(np.array([10.0]), "madrs"), [10.0])
    with pytest.raises(InvalidInputError, match="scale"):
        from_madrs(np.array([10.0]), "phq-9")


def test_consolidation_builds_with_cumulative_exposure() -> None:
    from ketamine_therapy.pharmacology.response import load_parameters
    from ketamine_therapy.pharmacology.response.parameters import session_consolidation

    p = load_parameters()
    one_session = float(session_consolidation(np.array([2.0]), p)[0])
    halves = session_consolidation(np.array([1.0, 1.0]), p)
    # two half-exposure sessions leave the same unconsolidated fraction as one full one (no waning between them)
    assert (1 - halves[0]) * (1 - halves[1]) == pytest.approx(1 - one_session)
    assert 0.0 < halves[0] < one_session < 1.0


def test_older_adult_and_inpatient_shifts_apply_only_to_their_patients() -> None:
    from ketamine_therapy.pharmacology.response import load_parameters
    from ketamine_therapy.pharmacology.response.parameters import OLDER_ADULT_AGE_Y, patient_effects

    p = load_parameters().replace(older_emax_logit_shift=-1.0, older_nonspecific_logit_shift=-1.0,
                                  inpatient_emax_logit_shift=-0.5, inpatient_logit_shift=0.5)  # fmt: skip
    eta = np.zeros((3, 6))
    ages = np.array([40.0, OLDER_ADULT_AGE_Y - 0.1, OLDER_ADULT_AGE_Y])
    outpatients = patient_effects(p, eta, ages, 33.0, 4.0)
    assert outpatients.drug_emax[0] == outpatients.drug_emax[1] > outpatients.drug_emax[2]
    assert outpatients.placebo[0] == outpatients.placebo[1] > outpatients.placebo[2]
    assert outpatients.background[1] > outpatients.background[2]
    hospital = patient_effects(p, eta, ages, 33.0, 4.0, inpatient=True)
    assert np.all(hospital.drug_emax < outpatients.drug_emax)
    assert np.all(hospital.placebo > outpatients.placebo)
    np.testing.assert_array_equal(hospital.background, outpatients.background)
