"""The antidepressant-response model: NMDA blockade -> plasticity -> MADRS course (see docs/models/response.md)."""

from .arms import Arm, VirtualPopulation, sample_population, simulate_arm
from .course import ArmCourse
from .endpoints import change_from_baseline, kaplan_meier_median, remission_rate, response_rate, time_to_relapse_days
from .parameters import ResponseParameters, load_parameters
from .scales import SCALES, from_madrs

__all__ = [
    "SCALES",
    "Arm",
    "ArmCourse",
    "ResponseParameters",
    "VirtualPopulation",
    "change_from_baseline",
    "from_madrs",
    "kaplan_meier_median",
    "load_parameters",
    "remission_rate",
    "response_rate",
    "sample_population",
    "simulate_arm",
    "time_to_relapse_days",
]
