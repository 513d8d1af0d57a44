"""Empty the trash of what has been in it too long: `python -m taskflow.purge --older-than 30d`.

Deletes for good, in batches of one transaction each, the tasks and projects trashed before
the cut-off (a project takes its tasks, members and tags with it). Safe to run while the API
serves: each batch holds its row locks briefly, and a second run only finds what is left.
"""

import argparse
import asyncio
import re
import sys
from datetime import timedelta

from taskflow.config import get_settings
from taskflow.database import (
    DatabaseNotReadyError,
    check_migrated,
    create_engine,
    create_session_factory,
)
from taskflow.models import utc_now
from taskflow.services.trash import purge_older_than

__all__ = ["main", "parse_age"]

_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_AGE = re.compile(r"(\d{1,6})([dhms])")


def parse_age(text: str) -> timedelta:
    """'30d', '12h', '90m' or '45s' as a duration."""
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"--older-than: {text!r} is not an age such as 30d, 12h, 90m or 45s")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, not argparse's usage block.
        self.exit(2, f"purge: {message} (see --help)\n")


async def _run(age: timedelta, batch_size: int) -> tuple[int, int]:
    engine = create_engine(get_settings())
    try:
        await check_migrated(engine)
        async with create_session_factory(engine)() as session:
            return await purge_older_than(session, utc_now() - age, batch_size=batch_size)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m taskflow.purge", description=__doc__)
    parser.add_argument("--older-than", required=True, help="age such as 30d, 12h, 90m or 45s")
    parser.add_argument("--batch-size", type=int, default=1000, help="rows per transaction")
    args = parser.parse_args(argv)
    try:
        age = parse_age(args.older_than)
    except ValueError as error:
        parser.error(str(error))
    if args.batch_size < 1:
        parser.error("--batch-size must be a positive number")
    try:
        tasks, projects = asyncio.run(_run(age, args.batch_size))
    except DatabaseNotReadyError as error:
        print(f"purge: {error}", file=sys.stderr)
        return 1
    print(
        f"purge: deleted {tasks} tasks and {projects} projects trashed over {args.older_than} ago"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
