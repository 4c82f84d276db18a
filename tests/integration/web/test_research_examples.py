"""The research page offers the example trial specs shipped in the package (importlib.resources), so an
installed wheel offers them too (before issue 13 they were read from a source checkout only)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient

from ketamine_therapy.app import create_app
from ketamine_therapy.bootstrap import unit_of_work_factory
from ketamine_therapy.config import Settings
from ketamine_therapy.pharmacology.trials.example_specs import example_specs
from ketamine_therapy.services.demo_clinic import demo_logins, seed_demo_clinic
from ketamine_therapy.storage.db import make_engine
from ketamine_therapy.storage.migrate import upgrade

from .login import post_login


class _ExampleOptions(HTMLParser):
    """The option values of the form's ``<select name="example">``."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.values = False, list[str]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "select":
            self.inside = dict(attrs).get("name") == "example"
        elif tag == "option" and self.inside:
            self.values.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.inside = False


def test_research_page_offers_the_packaged_example_specs(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'clinic.db'}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    new_uow = unit_of_work_factory(settings)
    seed_demo_clinic(new_uow, n_patients=1)  # the page needs the clinic's settings (time zone)
    logins = {role: (username, password) for role, username, password in demo_logins(new_uow)}
    username, password = logins["researcher"]
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        logged_in = post_login(client, {"username": username, "password": password, "next": "/research"},
                               follow_redirects=False)  # fmt: skip
        assert logged_in.status_code == 303
        page = client.get("/research")
    assert page.status_code == 200
    options = _ExampleOptions()
    options.feed(page.text)
    assert options.values == list(example_specs())
    assert "han_2016_single_infusion" in options.values
