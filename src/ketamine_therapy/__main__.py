"""``python -m ketamine_therapy``: the ``ketamine-therapy`` command."""

from .cli.main import app

if __name__ == "__main__":
    app(prog_name="ketamine-therapy")
