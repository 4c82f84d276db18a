"""``python -m ketamine_therapy.cli``."""

from .main import app

app()
