"""ketamine-therapy: run a ketamine-therapy program for depression, grounded in pharmacology.

Clinical decision support only: not a medical device. A clinician decides.
"""

__version__ = "0.1.0"
"""The one version string (pyproject.toml reads it; ``ketamine-therapy --version`` prints it)."""

DISCLAIMER = "Decision support for clinicians and researchers, not a medical device."
"""Shown with every result the command and the pages print."""
