"""The error every layer shares: a named input that is not allowed. No framework imports, so the pharmacology
core and the clinic rules can both derive their field errors from it and the HTTP edge maps it once."""

from __future__ import annotations


class FieldError(ValueError):
    """An input is not allowed; ``field`` names it (e.g. ``answers[8]``), ``allowed`` says what is (e.g. ``0-3``)."""

    def __init__(self, field: str, message: str, allowed: str | None = None) -> None:
        self.field = field
        self.message = message
        self.allowed = allowed
        text = f"{field}: {message}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)

    def __reduce__(self) -> tuple[type[FieldError], tuple[str, str, str | None]]:
        return (type(self), (self.field, self.message, self.allowed))
