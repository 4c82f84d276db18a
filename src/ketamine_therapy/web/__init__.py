"""Server-rendered pages (Jinja2 + HTMX): dashboard, patient chart, session runner, REMS, research, admin,
and patients' questionnaire links. Pages call the services layer only; all rules are enforced there."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
