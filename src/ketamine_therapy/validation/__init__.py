"""The one validation layer of the edges (API bodies and queries, web forms, CLI options, trial specs).

Pydantic types built from the clinic's single definition of each quantity (``clinic.quantities``): wrong types
are errors, never coerced (no NaN or infinity, no ``true`` or ``"0"`` as a number in JSON, no ``0`` as a date),
and every error names the field and the allowed range. Trial specs are read in ``trial_spec``.
"""
