"""Settings from the environment (``KETAMINE_THERAPY_*``); built only in the composition root."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the data lives and how the web app behaves. Default: a SQLite file in the working directory."""

    model_config = SettingsConfigDict(env_prefix="KETAMINE_THERAPY_")

    database_url: str = "sqlite:///ketamine-therapy.db"
    cookie_secure: bool = Field(default=True, description="send the session cookie over HTTPS only (browsers treat "
                                "http://localhost and 127.0.0.1 as secure)")  # fmt: skip
    idle_minutes: int = Field(default=15, ge=1, le=240, description="automatic logoff after this many idle minutes")
    pseudonym_key: str = Field(
        default="", description="key of researchers' pseudonyms (HMAC); empty = a new key per start"
    )
    public_url: str = Field(
        default="", description="base URL put in patients' questionnaire links (default: the request's)"
    )
