"""Command-line interface (Typer): ``ketamine-therapy <noun> <verb>``."""
