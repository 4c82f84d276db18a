"""Settings from the environment (``KETAMINE_THERAPY_*``); built only in the composition root."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the data lives. Default: a SQLite file in the working directory."""

    model_config = SettingsConfigDict(env_prefix="KETAMINE_THERAPY_")

    database_url: str = "sqlite:///ketamine-therapy.db"
