"""Validation lives in the shared bases: one definition, checked the same everywhere."""

import copy
import inspect
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import taskflow.models
from taskflow.models import (
    ProjectCreate,
    ProjectUpdate,
    TagCreate,
    TagRead,
    TagUpdate,
    Task,
    TaskCreate,
    TaskRead,
    TaskStatus,
    TaskUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
)
from taskflow.models.base import InputModel, ReadModel, cleaner_of


def test_email_is_validated_and_lower_cased() -> None:
    user = UserCreate(email="  Alice@Example.COM ", full_name="Alice", password="password1")
    assert user.email == "alice@example.com"
    with pytest.raises(ValidationError, match="email"):
        UserCreate(email="not-an-email", full_name="Alice", password="password1")


@pytest.mark.parametrize("password", ["short", "x" * 129])
def test_password_length_is_8_to_128(password: str) -> None:
    with pytest.raises(ValidationError, match="password"):
        UserCreate(email="a@example.com", full_name="A", password=password)
    with pytest.raises(ValidationError, match="password"):
        UserUpdate(password=password)


def test_no_read_class_exposes_a_password() -> None:
    assert not {"password", "hashed_password"} & set(UserRead.model_fields)
    assert not {"password", "hashed_password"} & set(UserRead.model_json_schema()["properties"])


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (
            lambda v: UserCreate(email="a@example.com", full_name=v, password="password1"),
            "full_name",
        ),
        (lambda v: ProjectCreate(name=v), "name"),
        (lambda v: TaskCreate(title=v, project_id=1), "title"),
        (lambda v: TagCreate(name=v), "name"),
        (lambda v: UserUpdate(full_name=v), "full_name"),
        (lambda v: ProjectUpdate(name=v), "name"),
        (lambda v: TaskUpdate(title=v), "title"),
        (lambda v: TagUpdate(name=v), "name"),
    ],
)
def test_names_are_stripped_and_must_not_be_blank_or_hold_control_characters(
    factory: object, field: str
) -> None:
    assert callable(factory)
    assert getattr(factory("  Padded  "), field) == "Padded"
    for bad in ["", "   ", "nul\x00byte", "line\nbreak", "bell\x07"]:
        with pytest.raises(ValidationError):
            factory(bad)


def test_every_model_with_names_cleans_them_on_input_or_is_not_input() -> None:
    # Names are cleaned by InputModel, not by their type: a new Create or Update class
    # that forgot it would store what clients send as they sent it.
    models = [
        value
        for value in vars(taskflow.models).values()
        if inspect.isclass(value) and issubclass(value, BaseModel)
    ]
    with_names = [m for m in models if any(map(cleaner_of, m.model_fields.values()))]
    assert TaskCreate in with_names
    assert TaskRead in with_names
    for model in with_names:
        is_table = bool(model.model_config.get("table"))
        shared = any(issubclass(m, model) and issubclass(m, InputModel) for m in models)
        assert is_table or shared or issubclass(model, (InputModel, ReadModel)), model.__name__
        assert not (issubclass(model, InputModel) and issubclass(model, ReadModel))


def test_read_classes_take_stored_names_as_they_are() -> None:
    # What a Read class validates was cleaned when stored; cleaning it again for every row
    # read cost a third of a page's validation.
    task = TaskRead.model_validate(
        {"id": 1, "title": "t", "project_id": 1, "created_at": datetime.now(UTC),
         "updated_at": datetime.now(UTC), "description": "  indented"}
    )  # fmt: skip
    assert task.description == "  indented"


def test_lengths_match_the_columns() -> None:
    TaskCreate(title="t" * 300, project_id=1)
    with pytest.raises(ValidationError):
        TaskCreate(title="t" * 301, project_id=1)
    with pytest.raises(ValidationError):
        TagCreate(name="t" * 51)
    with pytest.raises(ValidationError):
        ProjectCreate(name="p", description="d" * 1001)


def test_descriptions_keep_newlines_but_refuse_nul() -> None:
    assert TaskCreate(title="t", project_id=1, description="a\nb\tc").description == "a\nb\tc"
    with pytest.raises(ValidationError):
        TaskCreate(title="t", project_id=1, description="a\x00b")


def test_naive_datetimes_are_taken_as_utc_and_aware_ones_converted() -> None:
    naive = TaskCreate(title="t", project_id=1, due_date=datetime(2030, 1, 2, 3, 4))  # noqa: DTZ001
    assert naive.due_date == datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    aware = TaskCreate(title="t", project_id=1, due_date=datetime(2030, 1, 2, 5, tzinfo=plus_two))
    assert aware.due_date is not None
    assert aware.due_date.utcoffset() == timedelta(0)
    assert aware.due_date.hour == 3
    from_text = TaskUpdate.model_validate({"due_date": "2030-01-02T03:04:00"})
    assert from_text.due_date == datetime(2030, 1, 2, 3, 4, tzinfo=UTC)


def test_read_classes_give_utc_for_every_form_a_database_returns() -> None:
    plus_five = timezone(timedelta(hours=5))
    forms: list[Any] = [
        "2030-01-02T03:04:00+00:00",  # PostgreSQL's JSON
        "2030-01-02T08:04:00+05:00",  # ... under another session time zone
        "2030-01-02 03:04:00",  # SQLite's text
        datetime(2030, 1, 2, 3, 4),  # noqa: DTZ001 (SQLite through the ORM)
        datetime(2030, 1, 2, 8, 4, tzinfo=plus_five),
        datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
    ]
    for form in forms:
        row = {"id": 1, "name": "n", "project_id": 2, "created_at": form}
        for read in (TagRead.model_validate(row), TagRead.model_validate_json(_json(row))):
            assert read.created_at == datetime(2030, 1, 2, 3, 4, tzinfo=UTC), form
            assert read.created_at.utcoffset() == timedelta(0), form
            assert read.model_dump_json().endswith('"created_at":"2030-01-02T03:04:00Z"}')
    with pytest.raises(ValidationError):
        TagRead.model_validate({"id": 1, "name": "n", "project_id": 2, "created_at": "soon"})
    # Clients see a plain date-time, not the two ways it is validated.
    schema = TaskRead.model_json_schema()["properties"]["created_at"]
    assert schema == {"format": "date-time", "title": "Created At", "type": "string"}


def _json(row: dict[str, Any]) -> str:
    return json.dumps(row, default=str)


def test_update_classes_refuse_null_for_not_null_columns() -> None:
    for field in ["title", "status", "priority", "project_id", "tag_ids"]:
        with pytest.raises(ValidationError, match=field):
            TaskUpdate.model_validate({field: None})
    with pytest.raises(ValidationError):
        ProjectUpdate.model_validate({"name": None})
    with pytest.raises(ValidationError):
        UserUpdate.model_validate({"is_active": None})


def test_update_classes_allow_null_to_clear_nullable_columns() -> None:
    update = TaskUpdate.model_validate({"description": None, "assignee_id": None, "due_date": None})
    assert update.model_dump(exclude_unset=True) == {
        "description": None,
        "assignee_id": None,
        "due_date": None,
    }
    assert TaskUpdate().model_dump(exclude_unset=True) == {}


def test_update_schema_documents_non_null_fields_as_non_nullable() -> None:
    properties = TaskUpdate.model_json_schema()["properties"]
    assert "anyOf" not in properties["title"]
    assert {"type": "null"} in properties["description"]["anyOf"]


def test_enums_accept_only_their_values() -> None:
    task = TaskCreate.model_validate({"title": "t", "project_id": 1, "status": "in_progress"})
    assert task.status is TaskStatus.IN_PROGRESS
    with pytest.raises(ValidationError):
        TaskCreate(title="t", project_id=1, status="IN_PROGRESS")  # type: ignore[arg-type]


def test_read_classes_require_id_and_timestamps() -> None:
    required = set(TaskRead.model_json_schema()["required"])
    assert {"id", "created_at", "updated_at", "title", "project_id"} <= required


def test_read_classes_are_built_alike_from_arguments_data_copies_and_pickles() -> None:
    # Read classes take object's __new__ (pydantic-core then builds them without a Python
    # call each); every other way of making one must still work.
    assert TaskRead.__new__ is object.__new__
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    fields: dict[str, Any] = {
        "id": 7,
        "title": "t",
        "project_id": 3,
        "created_at": now,
        "updated_at": now,
    }
    tag = {"id": 1, "project_id": 3, "name": "ops", "created_at": now.isoformat()}
    direct = TaskRead(**fields, tags=[tag])
    assert direct == TaskRead.model_validate(fields | {"tags": [tag]})
    assert direct.tags[0].name == "ops"
    assert direct.tags[0].created_at == now
    assert direct.model_fields_set == set(fields) | {"tags"}
    for twin in (copy.copy(direct), copy.deepcopy(direct), pickle.loads(pickle.dumps(direct))):  # noqa: S301
        assert twin == direct
        assert twin is not direct
        assert twin.model_fields_set == direct.model_fields_set
    assert direct.model_copy(update={"title": "u"}).title == "u"
    built = TaskRead.model_construct(**fields)
    assert built.title == "t"
    assert built.model_fields_set == set(fields)
    stored = Task(**fields, description="d")
    assert TaskRead.model_validate(stored).description == "d"  # from attributes

    class Narrower(TaskRead):
        extra: int = 0

    assert Narrower(**fields, extra=2).extra == 2
    assert Narrower.model_validate(fields).extra == 0
    with pytest.raises(ValidationError):
        TaskRead(**fields | {"id": "seven"})
    with pytest.raises(TypeError):  # positional, refused as by any pydantic model
        TaskRead(fields)  # type: ignore[call-arg]
