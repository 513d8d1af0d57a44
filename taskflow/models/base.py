"""What every model shares: the naming convention, column mixins and validated field types."""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, get_args

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
    ValidationInfo,
    field_validator,
)
from pydantic import Field as PydanticField
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelMetaclass

# Must be set before any table is defined: constraint names are fixed when a table is built.
# Deterministic names let migrations, SQLite batch copies and the error translation in
# taskflow.errors refer to constraints by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Cleaned:
    """Marks a field that `InputModel` classes clean and check with `clean` before the
    field's own validation."""

    clean: Callable[[Any], Any]


# asyncpg sends these two as PostgreSQL's -infinity and infinity, which do not read back
# as dates (to_json gives the words): a task due then could no longer be shown.
_INFINITIES = frozenset({datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)})


def as_utc(value: datetime) -> datetime:
    """Naive input is taken to be UTC; anything else is converted to it."""
    offset = value.utcoffset()
    if offset is None:
        value = value.replace(tzinfo=UTC)
    elif offset:
        try:
            value = value.astimezone(UTC)
        except OverflowError as error:  # e.g. 0001-01-01T00:00+05:00 has no UTC equivalent
            raise ValueError("the date is out of range") from error
    if value in _INFINITIES:
        raise ValueError("the date is out of range")
    return value


_NUMBER = re.compile(r"\s*[-+]?\d+(\.\d*)?\s*")


def date_time_text(value: Any) -> Any:
    """Refuse a number where a date and time is expected.

    Pydantic reads 0 or "1700000000" as seconds since 1970; the schema says ISO 8601,
    and a client that sends a number has most likely sent the wrong field.
    """
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be a date and time in ISO 8601 form, not a number")
    return value


UTCDatetime = Annotated[datetime, AfterValidator(as_utc), Cleaned(date_time_text)]
"""A datetime that validation always turns into an aware UTC value (input classes refuse
numbers for it, see `InputModel`)."""


class _UTCAlready:
    """Accept a datetime already in UTC natively; only others go through `as_utc`.

    What Read classes validate comes from the database: UTC from PostgreSQL, naive from
    SQLite. Calling `as_utc` (Python) for each of a page's timestamps was a sixth of its
    validation; pydantic-core checks a zero offset by itself. Not for input: a client's
    bad date would be reported twice, once per branch.
    """

    @staticmethod
    def __get_pydantic_core_schema__(source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        converted = core_schema.no_info_after_validator_function(as_utc, handler(source))
        utc = core_schema.datetime_schema(tz_constraint=0)
        return core_schema.union_schema(
            [utc, converted],
            mode="left_to_right",
            serialization=core_schema.simple_ser_schema("datetime"),
        )

    @staticmethod
    def __get_pydantic_json_schema__(
        _schema: CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time"}


StoredUTCDatetime = Annotated[datetime, _UTCAlready()]
"""A datetime read back from the database, as an aware UTC value (see `_UTCAlready`)."""

# C0/C1 control characters and DEL; PostgreSQL refuses NUL outright, the rest hide text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _clean(value: Any) -> Any:
    # Before the length check, so the limit applies to what is stored.
    if not isinstance(value, str):
        return value
    value = value.strip()
    return value if value.isascii() else unicodedata.normalize("NFC", value)  # ASCII is NFC


def _single_line(value: Any) -> Any:
    # Cleaning and checking in one validator: it runs for every name of every row read.
    value = _clean(value)
    if isinstance(value, str):
        if not value:
            raise ValueError("must not be blank")
        if _CONTROL.search(value):
            raise ValueError("must not contain control characters")
    return value


def _multi_line(value: Any) -> Any:
    value = _clean(value)
    if isinstance(value, str) and _CONTROL_EXCEPT_WHITESPACE.search(value):
        raise ValueError("must not contain control characters")
    return value


def has_control_characters(value: str) -> bool:
    """Whether the text holds characters no stored text may hold (NUL and the like)."""
    return _CONTROL_EXCEPT_WHITESPACE.search(value) is not None


# The same rules as patterns in the JSON schema, so OpenAPI tells clients what is
# accepted; validation itself stays with the functions above, whose messages read better.
_NAME_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

Name = Annotated[
    str, PydanticField(json_schema_extra={"pattern": _NAME_PATTERN}), Cleaned(_single_line)
]
"""A one-line, stripped, non-blank text (names, titles)."""

Text = Annotated[
    str, PydanticField(json_schema_extra={"pattern": _TEXT_PATTERN}), Cleaned(_multi_line)
]
"""Free text: newlines and tabs allowed, other control characters refused."""


def cleaner_of(field: FieldInfo) -> Callable[[Any], Any] | None:
    """The `Cleaned` function of a field, also inside an optional (`Text | None`)."""
    marks = [*field.metadata]
    for argument in get_args(field.annotation):
        marks += getattr(argument, "__metadata__", ())
    return next((mark.clean for mark in marks if isinstance(mark, Cleaned)), None)


class InputModel(SQLModel):
    """Base of every class that validates what clients send (Create, Update).

    Names and texts are cleaned here, on the way in, and not by their field type (numbers
    sent for a date and time are refused here too): the Read
    classes share those fields, and validating what the database holds, which was
    cleaned when stored, would cost a Python call per name of every row read (a third of
    the validation of a page of tasks).
    """

    @field_validator("*", mode="before")
    @classmethod
    def _clean_texts(cls, value: Any, info: ValidationInfo) -> Any:
        # Before the field's own checks, so the length limit applies to what is stored.
        clean = _cleaners(cls).get(info.field_name or "")
        return value if clean is None else clean(value)


@cache
def _cleaners(model: type[BaseModel]) -> dict[str, Callable[[Any], Any]]:
    found = {name: cleaner_of(field) for name, field in model.model_fields.items()}
    return {name: clean for name, clean in found.items() if clean is not None}


def normalize_email(value: str) -> str:
    """The address as stored: validated, normalised (IDNA, Unicode) and lower-cased."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(f"value is not a valid email address: {error}") from error


def lookup_email(value: str) -> str:
    """The stored form of an address typed at sign-in; invalid ones cannot match anyway."""
    try:
        return normalize_email(value)
    except ValueError:
        return value.strip().lower()


Email = Annotated[
    str, PydanticField(json_schema_extra={"format": "email"}), AfterValidator(normalize_email)
]
"""A valid address, stored and compared in one normalised, lower-case form."""

MAX_ID = 2**31 - 1

Id = Annotated[StrictInt, PydanticField(ge=1, le=MAX_ID)]
"""A row id as clients send it: a positive INTEGER (32-bit, as the columns are)."""

Password = Annotated[str, Field(min_length=8, max_length=128)]
"""A clear-text password as a client sends it; never stored, never returned."""


def enum_column(enum: type[StrEnum], name: str) -> Any:
    """A VARCHAR column type holding the enum's values, guarded by a named CHECK constraint.

    A CHECK on VARCHAR rather than a native PostgreSQL ENUM: the same constraint works on
    both databases, Alembic compares it by name (see migrations/env.py) so a new value
    without a migration is caught as drift, adding a value is an ordinary constraint swap
    instead of ALTER TYPE outside a transaction, and a downgrade has no type to forget.
    """
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        # Room to grow, so a new value is not also a column type change.
        length=max(32, *(len(member.value) for member in enum)),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class IdMixin(SQLModel):
    """Integer surrogate primary key."""

    id: int | None = Field(default=None, primary_key=True)


class CreatedAtMixin(SQLModel):
    """Creation time, set by Python and, for raw inserts, by the database."""

    created_at: datetime = Field(
        default_factory=utc_now,
        nullable=False,
        sa_column_kwargs={"server_default": sa.func.now()},
    )


class TimestampsMixin(CreatedAtMixin):
    """Creation and last-update times; on PostgreSQL a trigger also covers raw SQL updates."""

    updated_at: datetime = Field(
        default_factory=utc_now,
        nullable=False,
        sa_column_kwargs={"server_default": sa.func.now(), "onupdate": utc_now},
    )


class _ReadModelType(SQLModelMetaclass):
    if not TYPE_CHECKING:  # to type checkers, a Read class is called as any model

        def __call__(cls, *args, **kwargs):
            # `ReadModel.__new__` takes no arguments (see there): a direct call hands them
            # to __init__ only. pydantic-core, building Read classes from data, calls
            # neither.
            instance = object.__new__(cls)
            instance.__init__(*args, **kwargs)
            return instance


class ReadModel(SQLModel, metaclass=_ReadModelType):
    """Base of every Read class: what leaves the service, validated from rows or objects."""

    # SQLModel's own __init__ exists for table models, whose construction SQLAlchemy
    # instruments. Read classes never are tables, so they keep pydantic's, which marks the
    # class as having no custom __init__: pydantic-core then builds it, and every nested
    # Read (a task's tags), natively instead of calling back into Python for each one.
    __init__ = BaseModel.__init__

    # SQLModel's __new__ prepares pydantic's private attributes for objects SQLAlchemy
    # loads without __init__; pydantic sets them itself for these. It ran for every model
    # built, each tag and assignee of a page included: a third of its validation. With
    # object's own (no Python call at all) pydantic-core builds a page's models a quarter
    # faster again; it refuses arguments, hence the metaclass for direct calls.
    if not TYPE_CHECKING:  # its signature would hide the classes' own from type checkers
        __new__ = object.__new__


IN_TRASH = sa.text("deleted_at IS NOT NULL")
"""The condition of the partial index on trashed rows (the trash list, the purge)."""


class TrashMixin(SQLModel):
    """When the row went to the trash; NULL while it is live.

    Nothing reads this column by hand: taskflow.services.visibility hides trashed rows
    from every query, in one place.
    """

    deleted_at: datetime | None = Field(default=None)


class RowRead(ReadModel):
    """Fields every Read class returns for a row with timestamps."""

    id: int
    # Aware UTC also when read from rows the ORM did not build (SQLite keeps no offset).
    created_at: StoredUTCDatetime
    updated_at: StoredUTCDatetime
