"""The antidepressant-response model: session stimulus -> latent MADRS course -> observed ratings
(see docs/models/response.md)."""

from .arms import Arm, VirtualPopulation, patient_session_stimulus, sample_population, session_stimulus, simulate_arm
from .course import ArmCourse
from .endpoints import change_from_baseline, kaplan_meier_median, remission_rate, response_rate, time_to_relapse_days
from .likelihood import PatientRecord, latent_course, log_density, log_density_many
from .parameters import ETA_NAMES, ResponseParameters, load_parameters
from .scales import SCALES, from_madrs

__all__ = [
    "ETA_NAMES",
    "SCALES",
    "Arm",
    "ArmCourse",
    "PatientRecord",
    "ResponseParameters",
    "VirtualPopulation",
    "change_from_baseline",
    "from_madrs",
    "kaplan_meier_median",
    "latent_course",
    "load_parameters",
    "log_density",
    "log_density_many",
    "patient_session_stimulus",
    "remission_rate",
    "response_rate",
    "sample_population",
    "session_stimulus",
    "simulate_arm",
    "time_to_relapse_days",
]
