"""Errors that every layer raises and the API and views turn into answers.

Each carries a machine-readable `code`, a Chinese `message` and an English `message_en`, so that a user
always learns what was wrong in both languages, and a client can branch on the code.
"""

from typing import Any


class CityopsError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        message_en: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(f"{message} / {message_en}")
        self.message = message
        self.message_en = message_en
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "message_en": self.message_en}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidInput(CityopsError):
    status = 400
    code = "invalid_input"


class NotAuthenticated(CityopsError):
    status = 401
    code = "not_authenticated"


class Forbidden(CityopsError):
    status = 403
    code = "forbidden"


class NotFound(CityopsError):
    status = 404
    code = "not_found"


class Conflict(CityopsError):
    status = 409
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class Unprocessable(CityopsError):
    status = 422
    code = "unprocessable"


class RateLimited(CityopsError):
    status = 429
    code = "rate_limited"
