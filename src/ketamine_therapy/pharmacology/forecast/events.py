"""Read a NONMEM-style event table (CSV) into one :class:`~.contract.ForecastRequest` per patient ID.

Columns (case-insensitive; others are ignored): ``ID``; ``TIME`` (h); ``EVID`` (1 = dose, 0 = rating); ``AMT`` (mg);
``RATE`` (mg/h, > 0 for an IV infusion, 0 or empty for a bolus); ``CMT`` or ``ROUTE`` (a route name: iv, im,
intranasal, oral, sublingual, rectal; numeric compartments are model-specific and refused); ``DRUG`` (default
``racemic-ketamine``); ``DV`` (the score); ``SCALE`` (default ``madrs``); optional covariates ``WT`` (kg), ``AGE``
(years) and ``SEX`` (``female``/``male``/``F``/``M``). ``MDV`` = 1 rows with ``EVID`` 0 are skipped.
"""

from __future__ import annotations

import csv
import io
import math

from ..exceptions import InvalidInputError
from .contract import Covariates, Dose, ForecastRequest, Rating

DEFAULT_DRUG = "racemic-ketamine"
DEFAULT_SCALE = "madrs"
_SEX = {"female": "female", "f": "female", "male": "male", "m": "male"}


def _number(row: dict[str, str], column: str, line: int, required: bool = True) -> float | None:
    text = (row.get(column) or "").strip()
    if not text or text == ".":
        if required:
            raise InvalidInputError(f"row {line}.{column}", "is empty", "a number")
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(f"row {line}.{column}", f"got {text!r}", "a number") from None
    if not math.isfinite(value):
        raise InvalidInputError(f"row {line}.{column}", f"got {text!r}", "a finite number")
    return value


def _covariate(seen: dict[str, object], name: str, value: object, line: int) -> None:
    if value is None:
        return
    if name in seen and seen[name] != value:
        raise InvalidInputError(f"row {line}.{name}", f"changes from {seen[name]} to {value}", "one value per ID")
    seen[name] = value


def read_event_table(text: str) -> dict[str, ForecastRequest]:
    """One request per ``ID`` (in order of first appearance), with the request defaults otherwise."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise InvalidInputError("header", "the table is empty", "a CSV header with ID, TIME, EVID, ...")
    reader.fieldnames = [name.strip().upper() for name in reader.fieldnames]
    for column in ("ID", "TIME", "EVID"):
        if column not in reader.fieldnames:
            raise InvalidInputError(column, "column is missing", "ID, TIME, EVID, AMT, RATE, CMT, DV, SCALE")
    doses: dict[str, list[Dose]] = {}
    ratings: dict[str, list[Rating]] = {}
    covariates: dict[str, dict[str, object]] = {}
    for line, row in enumerate(reader, start=2):
        pid = (row.get("ID") or "").strip()
        if not pid:
            raise InvalidInputError(f"row {line}.ID", "is empty", "a patient ID")
        doses.setdefault(pid, [])
        ratings.setdefault(pid, [])
        seen = covariates.setdefault(pid, {})
        time_h = _number(row, "TIME", line)
        evid = _number(row, "EVID", line)
        assert time_h is not None
        _covariate(seen, "WT", _number(row, "WT", line, required=False), line)
        _covariate(seen, "AGE", _number(row, "AGE", line, required=False), line)
        sex = (row.get("SEX") or "").strip().lower()
        if sex:
            if sex not in _SEX:
                raise InvalidInputError(f"row {line}.SEX", f"got {sex!r}", "female, male, F or M")
            _covariate(seen, "SEX", _SEX[sex], line)
        if evid == 1:
            amount = _number(row, "AMT", line)
            assert amount is not None
            rate = _number(row, "RATE", line, required=False) or 0.0
            route = (row.get("ROUTE") or row.get("CMT") or "").strip().lower()
            if not route or route.replace(".", "").isdigit():
                raise InvalidInputError(f"row {line}.CMT", f"got {route!r}", "a route name (iv, im, intranasal, ...)")
            if rate < 0:
                raise InvalidInputError(f"row {line}.RATE", f"got {rate:g}", ">= 0 mg/h (0 = bolus)")
            drug = (row.get("DRUG") or "").strip().lower() or DEFAULT_DRUG
            minutes = 60.0 * amount / rate if rate > 0 else 0.0
            doses[pid].append(Dose(time_h, drug, route, amount, minutes))
        elif evid == 0:
            if (row.get("MDV") or "").strip() == "1":
                continue
            value = _number(row, "DV", line)
            assert value is not None
            if value != round(value):
                raise InvalidInputError(f"row {line}.DV", f"got {value:g}", "a whole-number score")
            scale = (row.get("SCALE") or "").strip().lower() or DEFAULT_SCALE
            ratings[pid].append(Rating(time_h, scale, int(value)))
        else:
            raise InvalidInputError(f"row {line}.EVID", f"got {evid:g}", "1 (dose) or 0 (rating)")
    out = {}
    for pid in doses:
        seen = covariates[pid]
        wt, age = seen.get("WT"), seen.get("AGE")
        sex = seen.get("SEX")
        cov = Covariates(
            weight_kg=float(wt) if isinstance(wt, float) else None,
            age_y=float(age) if isinstance(age, float) else None,
            sex="female" if sex == "female" else "male" if sex == "male" else None,
        )
        out[pid] = ForecastRequest(cov, tuple(doses[pid]), tuple(ratings[pid]))
    return out
