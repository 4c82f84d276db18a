"""Session prices, insurance coverage, billing codes and course costs, in :class:`decimal.Decimal` USD.

Every rule cites its row in ``docs/references/clinical.md`` §1e. clinical.md gives only price *ranges*, so a
clinic must set its own prices (:class:`PriceList` has no defaults); the published ranges are kept for a sanity check.
Coinsurance is not in clinical.md either and is a required input of :class:`Coverage`. IM ketamine has no billing
code and no coverage rule in clinical.md, so none is encoded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Literal

from ketamine_therapy.clinic.exceptions import InvalidAnswerError

SRC_IV_PRICE = (
    "clinical.md §1e 'IV ketamine price' ($400–800, ketamineadvocacynetwork.org/cost), 'IV ketamine price ranges' "
    "($300–1,500, healingmaps.com), 'IV vs IM' (IV $425–750, aware.md), VERIFIED"
)
SRC_IM_PRICE = "clinical.md §1e 'IV vs IM': IM $300–550 (aware.md), VERIFIED"
SRC_IV_SELF_PAY = "clinical.md §1e 'IV ketamine price': insurance generally does not cover (ketamineadvocacynetwork)"
SRC_ESK_COVERAGE = (
    "clinical.md §1e 'Coverage': Spravato covered by most commercial plans, Medicare, some Medicaid; prior auth "
    "usually required (osmind.org; phillyintegrative.com), VERIFIED"
)
SRC_G2082 = "clinical.md §1e 'HCPCS G2082' (carepatron; codingahead), VERIFIED"
SRC_G2083 = "clinical.md §1e 'HCPCS G2083' (codingahead.com/hcpcs-code-g2083), VERIFIED"
SRC_J0013 = "clinical.md §1e 'Drug code' (pabau.com; swiftmds), VERIFIED (secondary)"
SRC_SPLIT_BILL = "clinical.md §1e 'Commercial \"split-bill\"' (therybargroup.com; spravatohcp.com/reimbursement-faq)"
SRC_96365 = "clinical.md §1e 'CPT 96365' (medcoder.ai; carepatron), VERIFIED"
SRC_96366_TIME = (
    "CPT 30-minute rule for the add-on hour: +96366 only for more than 30 minutes beyond the first hour, so a "
    "75-min infusion is 96365 alone and 91-150 min is one unit (AAPC 'Infusion codes necessitate constant "
    "supervision'; codingahead.com/cpt/codes/96366), VERIFIED (secondary)"
)
SRC_ADD_ON_EM = (
    "clinical.md §1e 'Commercial \"split-bill\"': E/M (e.g. 99215) + prolonged services 99415/99416, which are "
    "add-on codes to that E/M visit (therybargroup.com; spravatohcp.com/reimbursement-faq)"
)
SRC_IV_DURATION = "clinical.md §1b 'Standard dose': 0.5 mg/kg IV over 40 min (Andrade 2017), VERIFIED"

SessionKind = Literal["iv", "im", "esketamine-56mg", "esketamine-84mg"]
Payer = Literal["medicare", "commercial"]
CoverageRule = Literal["covered-with-prior-auth", "self-pay"]

CENT = Decimal("0.01")
STANDARD_IV_MINUTES = 40  # SRC_IV_DURATION

PUBLISHED_PRICE_RANGES_USD: Mapping[SessionKind, tuple[Decimal, Decimal]] = MappingProxyType(
    {
        "iv": (Decimal(300), Decimal(1500)),  # SRC_IV_PRICE: widest of the three ranges
        "im": (Decimal(300), Decimal(550)),  # SRC_IM_PRICE
    }
)

DEFAULT_COVERAGE_RULES: Mapping[SessionKind, CoverageRule] = MappingProxyType(
    {
        "esketamine-56mg": "covered-with-prior-auth",  # SRC_ESK_COVERAGE
        "esketamine-84mg": "covered-with-prior-auth",  # SRC_ESK_COVERAGE
        "iv": "self-pay",  # SRC_IV_SELF_PAY
    }
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PriceList:
    """The clinic's price per session kind (USD); kinds a plan uses must be set."""

    prices: Mapping[SessionKind, Decimal]

    def __post_init__(self) -> None:
        for kind, price in self.prices.items():
            if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
                raise InvalidAnswerError(f"prices[{kind}]", f"{price!r} is not a price", "Decimal >= 0")

    def price(self, kind: SessionKind) -> Decimal:
        """The clinic price of one ``kind`` session; raises if the clinic has not set it."""
        if kind not in self.prices:
            raise InvalidAnswerError(f"prices[{kind}]", "no price set (clinical.md gives only ranges)")
        return self.prices[kind]

    def outside_published_ranges(self) -> tuple[SessionKind, ...]:
        """Kinds whose price lies outside clinical.md's published range (a prompt to check, not an error)."""
        return tuple(
            kind
            for kind, (low, high) in PUBLISHED_PRICE_RANGES_USD.items()
            if kind in self.prices and not low <= self.prices[kind] <= high
        )


@dataclass(frozen=True)
class Coverage:
    """A patient's insurance: payer, prior-auth state and coinsurance (fraction of a covered session paid)."""

    payer: Payer
    prior_authorization_approved: bool
    patient_coinsurance: Decimal
    rules: Mapping[SessionKind, CoverageRule] = field(default_factory=lambda: dict(DEFAULT_COVERAGE_RULES))

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.patient_coinsurance <= Decimal(1):
            raise InvalidAnswerError("patient_coinsurance", f"{self.patient_coinsurance} is not a fraction", "0-1")

    def insured(self, kind: SessionKind) -> bool:
        """Whether the insurer pays for a ``kind`` session; covered-with-prior-auth needs an approved prior auth."""
        if kind not in self.rules:
            raise InvalidAnswerError(f"rules[{kind}]", "clinical.md gives no coverage rule for this kind; set one")
        rule = self.rules[kind]
        return rule == "covered-with-prior-auth" and self.prior_authorization_approved


@dataclass(frozen=True)
class BillingCode:
    """A billing code with its meaning as clinical.md states it; ``units`` is ``None`` when a coder must count them."""

    code: str
    meaning: str
    units: int | None
    source: str


_G2082 = (
    "E/M office visit, established patient, supervision + provision of up to 56 mg esketamine nasal "
    "self-administration, includes 2 h post-administration observation"
)
_G2083 = "as G2082 but more than 56 mg esketamine"
_J0013 = "esketamine, nasal spray, 1 mg (replaced S0013 on 1 Jan 2026 for payers outside Medicare)"
_SPLIT = (
    "prolonged clinical staff services under direct supervision, with an E/M visit (commercial split-bill; "
    "not with the bundled G-codes)"
)
_96365 = "IV infusion for therapy/prophylaxis/diagnosis, initial, up to 1 h (infusion ≥16 min); drug billed separately"
_96366 = "IV infusion, each additional hour (more than 30 min beyond the previous hour)"
ADD_ON_MINUTES = 31  # SRC_96366_TIME: an additional hour counts from 31 minutes
EM_OFFICE_CODES = frozenset(f"992{n:02d}" for n in (2, 3, 4, 5, 12, 13, 14, 15))
"""Office/outpatient E/M codes (new 99202-99205, established 99212-99215) that 99415/99416 add to."""
_96374 = "IV push (infusion ≤15 min)"


def billing_codes(
    kind: SessionKind,
    payer: Payer,
    *,
    infusion_minutes: int = STANDARD_IV_MINUTES,
    established_patient: bool = True,
    em_code: str | None = None,
) -> tuple[BillingCode, ...]:
    """The codes clinical.md §1e lists for one session of ``kind`` billed to ``payer`` (IM: none listed).

    IV: 96374 up to 15 min, 96365 from 16 min, +96366 per hour from 91 min (SRC_96366_TIME). Medicare esketamine:
    G2082/G2083, defined for established patients only (SRC_G2082; a new patient raises). Other payers: J0013, and
    the prolonged-services add-ons 99415/99416 only with the office E/M visit ``em_code`` they add to (SRC_ADD_ON_EM).
    """
    if kind == "iv":
        if infusion_minutes <= 0:
            raise InvalidAnswerError("infusion_minutes", f"{infusion_minutes} is not a duration", "> 0")
        if infusion_minutes <= 15:
            return (BillingCode("96374", _96374, 1, SRC_96365),)
        codes = [BillingCode("96365", _96365, 1, SRC_96365)]
        if infusion_minutes >= 60 + ADD_ON_MINUTES:
            units = (infusion_minutes - ADD_ON_MINUTES) // 60
            codes.append(BillingCode("96366", _96366, units, f"{SRC_96365}; {SRC_96366_TIME}"))
        return tuple(codes)
    if kind == "im":
        return ()
    dose_mg = 56 if kind == "esketamine-56mg" else 84
    if payer == "medicare":
        if not established_patient:
            raise InvalidAnswerError(
                "established_patient", f"G2082/G2083 are for established patients only ({SRC_G2082})",
                "an established patient, or bill a new-patient E/M visit",
            )  # fmt: skip
        if kind == "esketamine-56mg":
            return (BillingCode("G2082", _G2082, 1, SRC_G2082),)
        return (BillingCode("G2083", _G2083, 1, SRC_G2083),)
    drug = BillingCode("J0013", _J0013, dose_mg, SRC_J0013)
    if em_code is None:
        return (drug,)
    if em_code not in EM_OFFICE_CODES:
        raise InvalidAnswerError(
            "em_code", f"{em_code!r} is not an office E/M code", ", ".join(sorted(EM_OFFICE_CODES))
        )
    return (
        drug,
        BillingCode(em_code, "office/outpatient E/M visit the prolonged services add to", 1, SRC_ADD_ON_EM),
        BillingCode("99415", _SPLIT, None, SRC_SPLIT_BILL),
        BillingCode("99416", _SPLIT, None, SRC_SPLIT_BILL),
    )


@dataclass(frozen=True)
class CostLine:
    """The cost of ``count`` sessions of one kind, split between patient and insurer, with its billing codes."""

    kind: SessionKind
    count: int
    unit_price: Decimal
    total: Decimal
    patient: Decimal
    insurer: Decimal
    billing_codes: tuple[BillingCode, ...]


@dataclass(frozen=True)
class CostEstimate:
    """The cost of a plan or course (USD)."""

    total: Decimal
    patient_out_of_pocket: Decimal
    insurer: Decimal
    lines: tuple[CostLine, ...]


@dataclass(frozen=True)
class DeliveredSession:
    """One session given; ``infusion_minutes`` is used for IV billing codes."""

    kind: SessionKind
    infusion_minutes: int = STANDARD_IV_MINUTES


def _line(
    kind: SessionKind, count: int, infusion_minutes: int, prices: PriceList, coverage: Coverage | None
) -> CostLine:
    if count < 0:
        raise InvalidAnswerError(f"plan[{kind}]", f"{count} is not a session count", ">= 0")
    unit = prices.price(kind)
    total = unit * count
    patient = total
    if coverage is not None and coverage.insured(kind):
        patient = _money(total * coverage.patient_coinsurance)
    payer: Payer = coverage.payer if coverage is not None else "commercial"
    codes = billing_codes(kind, payer, infusion_minutes=infusion_minutes)
    return CostLine(kind, count, unit, total, patient, total - patient, codes)


def _estimate(lines: Iterable[CostLine]) -> CostEstimate:
    lines = tuple(lines)
    return CostEstimate(
        total=sum((line.total for line in lines), Decimal(0)),
        patient_out_of_pocket=sum((line.patient for line in lines), Decimal(0)),
        insurer=sum((line.insurer for line in lines), Decimal(0)),
        lines=lines,
    )


def estimate_plan_cost(
    plan: Mapping[SessionKind, int],
    prices: PriceList,
    coverage: Coverage | None = None,
    *,
    iv_infusion_minutes: int = STANDARD_IV_MINUTES,
) -> CostEstimate:
    """Estimate a plan of session counts per kind; ``coverage=None`` means self-pay.

    A kind covered with prior auth is insured only once the prior auth is approved (SRC_ESK_COVERAGE); otherwise
    the patient pays the full price. Billing codes for a self-pay patient are those of non-Medicare payers.
    """
    return _estimate(_line(kind, count, iv_infusion_minutes, prices, coverage) for kind, count in plan.items())


def course_cost(
    sessions: Iterable[DeliveredSession], prices: PriceList, coverage: Coverage | None = None
) -> CostEstimate:
    """The cost of the sessions actually given, one line per kind and IV infusion length."""
    counts = Counter((s.kind, s.infusion_minutes if s.kind == "iv" else STANDARD_IV_MINUTES) for s in sessions)
    return _estimate(_line(kind, n, minutes, prices, coverage) for (kind, minutes), n in counts.items())


def cost_per_outcome(total: Decimal, n_outcomes: int) -> Decimal:
    """Cost per responder (or remitter), rounded to the cent; undefined without an outcome."""
    if n_outcomes <= 0:
        raise InvalidAnswerError("n_outcomes", "cost per outcome needs at least one responder or remitter", ">= 1")
    return _money(total / n_outcomes)
