"""An Alembic autogenerate plugin that notices when the values a CHECK constraint allows change.

Enum columns are VARCHAR guarded by a named CHECK (see `taskflow.models.base.enum_column`).
Alembic compares check constraints by name only in text form, and PostgreSQL rewrites that
text, so a value added to a Python enum would go unnoticed. This plugin compares the sets of
quoted literals instead, on every dialect. Enabled by `migrations/env.py` through
`autogenerate_plugins=[..., PLUGIN_NAME]`.
"""

import re

import sqlalchemy as sa
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.plugins import Plugin
from alembic.util import PriorityDispatchResult

__all__ = ["PLUGIN_NAME", "quoted_literals"]

PLUGIN_NAME = "taskflow.check_constraint_values"

_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def quoted_literals(sql: str) -> frozenset[str]:
    """The string literals in an SQL expression, e.g. the values of an IN list."""
    return frozenset(match.replace("''", "'") for match in _LITERAL.findall(sql))


def _compare_check_values(
    autogen_context: AutogenContext,
    modify_table_ops: ops.ModifyTableOps,
    schema: str | None,
    tname: str,
    conn_table: sa.Table | None,
    metadata_table: sa.Table | None,
) -> PriorityDispatchResult:
    if conn_table is None or metadata_table is None or autogen_context.inspector is None:
        return PriorityDispatchResult.CONTINUE
    dialect = autogen_context.dialect
    reflected = {
        ck["name"]: ck["sqltext"]
        for ck in autogen_context.inspector.get_check_constraints(tname, schema=schema)
        if ck.get("name")
    }
    for constraint in metadata_table.constraints:
        if not isinstance(constraint, sa.CheckConstraint) or constraint.name not in reflected:
            continue
        expected_sql = str(
            constraint.sqltext.compile(
                dialect=dialect, compile_kwargs={"literal_binds": True, "include_table": False}
            )
        )
        if quoted_literals(expected_sql) == quoted_literals(reflected[str(constraint.name)]):
            continue
        # Detached copies, so the ops render as plain CHECKs, not as part of a column type.
        old = sa.CheckConstraint(reflected[str(constraint.name)], name=constraint.name)
        new = sa.CheckConstraint(sa.text(expected_sql), name=constraint.name)
        sa.Table(tname, sa.MetaData(), old, schema=schema)
        sa.Table(tname, sa.MetaData(), new, schema=schema)
        modify_table_ops.ops.append(ops.DropConstraintOp.from_constraint(old))
        modify_table_ops.ops.append(ops.AddConstraintOp.from_constraint(new))
    return PriorityDispatchResult.CONTINUE


# Registered once, when this module is first imported.
Plugin(PLUGIN_NAME).add_autogenerate_comparator(_compare_check_values, "table", "check_values")
