"""The ketamine program's clinical rules as plain Python (no framework)."""

from ketamine_therapy.clinic.exceptions import ClinicError, InvalidAnswerError
from ketamine_therapy.clinic.scales import (
    MADRS_REMISSION_MAX_ESKETAMINE,
    SCALES,
    Band,
    CourseSummary,
    Domain,
    Item,
    Scale,
    ScaleResult,
    course_summary,
    get_scale,
    is_remission,
    is_response,
    score,
)

__all__ = [
    "MADRS_REMISSION_MAX_ESKETAMINE",
    "SCALES",
    "Band",
    "ClinicError",
    "CourseSummary",
    "Domain",
    "InvalidAnswerError",
    "Item",
    "Scale",
    "ScaleResult",
    "course_summary",
    "get_scale",
    "is_remission",
    "is_response",
    "score",
]
