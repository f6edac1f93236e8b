"""`WholeNumber`: the one type of every whole-number field a request body holds
(limit-like counts, percents, ids, steps).

JSON has one number type, so `5.0` is the whole number 5 to whoever wrote it (and to
every JSON library that prints a float): it is read as 5. A fraction (`5.5`), a boolean
(`true`) and text (`"5"`) are still refused, each with the field's "must be a whole
number" message (core/plain_errors.py), as pydantic's strict integers refuse them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Strict


def integral_float(value: Any) -> Any:
    """5.0 → 5; anything else as it came (5.5, true, "5" fail the strict int after)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(integral_float), Strict()]
