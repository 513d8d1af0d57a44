"""Lint the PostgreSQL SQL of every revision with squawk, so an unsafe migration fails `make lint`.

Run as a script: `python migrations/lint_sql.py [--config alembic.ini]`. Each revision is rendered
on its own, base first, as `alembic upgrade <parent>:<revision> --sql` would print it for
PostgreSQL (no database is needed), and the files go to squawk with the `.squawk.toml` that sits
beside alembic.ini.
"""

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory

ROOT = Path(__file__).resolve().parent.parent

# Offline mode only needs the dialect; nothing connects to this URL.
RENDER_URL = "postgresql://render-only@localhost/render-only"

# A root revision creates its tables empty, in one transaction, on a database nobody uses yet:
# there is no lock to wait for, so these would ask for timeouts that guard nothing. Every later
# revision is held to them. (.squawk.toml lists the rules turned off everywhere.)
ROOT_REVISION_IGNORES = ("require-lock-timeout", "require-statement-timeout")


def revisions_base_first(config: Config) -> list[Script]:
    return list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))


def render_sql(config: Config, revision: Script) -> str:
    """The SQL `alembic upgrade <parent>:<revision> --sql` prints, for this revision alone."""
    parent = revision.down_revision
    if parent is None:
        start = "base"
    elif isinstance(parent, str):
        start = parent
    else:
        # A merge renders from its first parent: the other branch is linted again with it.
        start = parent[0]
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, f"{start}:{revision.revision}", sql=True)
    sql = buffer.getvalue()
    if revision.is_base:
        sql = f"-- squawk-ignore-file {', '.join(ROOT_REVISION_IGNORES)}\n{sql}"
    return sql


def squawk_executable() -> str:
    """The squawk installed with this Python (squawk-cli, a dev dependency), else one on PATH."""
    found = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    if found is None:
        raise SystemExit("squawk not found: `make install` brings it (squawk-cli)")
    return found


def lint(alembic_ini: Path) -> int:
    """Render every revision under `alembic_ini` and run squawk over them; its exit code."""
    # Read by taskflow.config when env.py first asks for the settings, in this process only.
    os.environ["DATABASE_URL"] = RENDER_URL
    config = Config(str(alembic_ini))
    config.attributes["configure_logger"] = False
    with tempfile.TemporaryDirectory(prefix="taskflow-squawk-") as tmp:
        paths = []
        for revision in revisions_base_first(config):
            path = Path(tmp) / f"{Path(revision.path).stem}.sql"
            path.write_text(render_sql(config, revision))
            paths.append(str(path))
        reporter = "tty" if sys.stdout.isatty() else "gcc"
        squawk = [squawk_executable(), "--config", str(alembic_ini.parent / ".squawk.toml")]
        # Arguments are our own paths, not user input.
        result = subprocess.run([*squawk, f"--reporter={reporter}", *paths], check=False)  # noqa: S603
    if result.returncode == 0:
        print(f"squawk: {len(paths)} revision(s) clean")
    else:
        print(
            "squawk: see above; each .sql file is named after its revision. Reproduce with "
            "DATABASE_URL=postgresql://x/x alembic upgrade <parent>:<revision> --sql",
            file=sys.stderr,
        )
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, default=ROOT / "alembic.ini", help="alembic.ini")
    args = parser.parse_args(argv)
    return lint(args.config.resolve())


if __name__ == "__main__":
    sys.exit(main())
