"""ketamine-therapy: run a ketamine-therapy program for depression, grounded in pharmacology.

Clinical decision support only: not a medical device. A clinician decides.
"""

__version__ = "0.1.0"
