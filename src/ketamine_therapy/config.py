"""Settings from the environment (``KETAMINE_THERAPY_*``); built only in the composition root."""

from __future__ import annotations

from pydantic import Field, field_validator
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
        default="",
        description="the clinic's public base URL (https://...), put in patients' questionnaire links; links are "
        "refused while it is unset (the request's Host header is never used: a client chooses it)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks (CIDR) of the reverse proxies whose X-Forwarded-For/-Proto are believed "
        "(JSON list); from anyone else those headers are ignored (audit source, login rate limit, HTTPS)",
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("public_url must be an absolute http(s) URL, e.g. https://clinic.example.org")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("trusted_proxies: name the proxies; '*' would let any client choose its address")
        return value
