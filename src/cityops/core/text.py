"""Text a person typed, checked the same way in every app before it is stored."""

from __future__ import annotations

import unicodedata

from cityops.core.errors import InvalidInput

# Line breaks and tabs are what a person types; every other control character (NUL first: no PostgreSQL text
# column stores it) is noise from a broken client or an attack.
ALLOWED_CONTROLS = "\n\r\t"


def clean_text(value, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    """`value` trimmed; refused with a coded bilingual error (400) when it is not text (`invalid_<field>`), holds a
    control character other than a line break or tab (`invalid_text`), is empty while `required`
    (`<field>_required`) or longer than `max_length` (`<field>_too_long`). None is the empty text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"「{label}」须为文本", f"'{field}' must be text", code=f"invalid_{field}")
    value = value.strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS for ch in value):
        raise InvalidInput(f"「{label}」含有不允许的控制字符（如 NUL）", f"'{field}' contains a control character (e.g. NUL)",
                           code="invalid_text", details={"field": field})
    if required and not value:
        raise InvalidInput(f"请填写「{label}」", f"'{field}' is required", code=f"{field}_required")
    if len(value) > max_length:
        raise InvalidInput(f"「{label}」过长（最多 {max_length} 字）", f"'{field}' is too long (max {max_length})",
                           code=f"{field}_too_long")
    return value
