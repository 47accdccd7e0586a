"""What every API schema shares: finite numbers only, and bounded types for the numbers and dates an API takes,
so that a value no database column or calendar can hold is refused as bad input (400) and documented in the
OpenAPI document, instead of failing deep inside a query."""

from datetime import date, datetime
from typing import Annotated

from ninja import Schema as NinjaSchema
from pydantic import AfterValidator, ConfigDict, Field

# Dates a city's records can have: a report from 1900 or 9999 is a mistake, and dates near the calendar's
# ends overflow the moment a deadline is added to them.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_ID = 2**63 - 1  # a bigint primary key


def _in_calendar(value: date | datetime) -> date | datetime:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


Day = Annotated[date, AfterValidator(_in_calendar)]
Moment = Annotated[datetime, AfterValidator(_in_calendar)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Field(ge=0, le=1_000_000_000)]
# Working or calendar hours a person may ask for (an extension, a sub-task's limit): more than a year is a typo.
Hours = Annotated[float, Field(gt=0, le=24 * 366, allow_inf_nan=False)]


def page_size(high: int, *, low: int = 1):
    """A page size between `low` and `high`."""
    return Annotated[int, Field(ge=low, le=high)]


class Schema(NinjaSchema):
    """Base of cityops' API schemas: NaN and ±Infinity are not numbers a city records."""

    model_config = ConfigDict(allow_inf_nan=False)
