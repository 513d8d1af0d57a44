"""The README's schema diagram is the one paracelsus draws from the models (`make erd`)."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BEGIN, END = "<!-- BEGIN_SQLALCHEMY_DOCS -->", "<!-- END_SQLALCHEMY_DOCS -->"


def check_diagram(readme: Path) -> subprocess.CompletedProcess[str]:
    """`paracelsus inject --check` on `readme`, as [tool.paracelsus] in pyproject.toml sets it."""
    paracelsus = shutil.which("paracelsus", path=str(Path(sys.executable).parent))
    assert paracelsus is not None, "paracelsus is not installed: make install"
    return subprocess.run(
        [paracelsus, "inject", str(readme), "--check", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_readme_diagram_matches_the_models() -> None:
    readme = (ROOT / "README.md").read_text()
    # Without both markers paracelsus would find nothing to compare and pass.
    assert readme.count(BEGIN) == 1
    assert readme.count(END) == 1
    assert "erDiagram" in readme.split(BEGIN)[1].split(END)[0]
    result = check_diagram(ROOT / "README.md")
    assert result.returncode == 0, f"the README diagram is stale: run `make erd`\n{result.stdout}"


def test_a_stale_diagram_is_caught(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    readme = (ROOT / "README.md").read_text()
    stale.write_text(readme.replace("VARCHAR(300) title", "VARCHAR(200) title", 1))
    assert stale.read_text() != readme
    assert check_diagram(stale).returncode == 1
