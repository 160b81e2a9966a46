"""`pip install .` (not editable) gives a working errdesk: the knowledge ships in the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import bundled_kb

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )  # fmt: skip
    (built,) = out.glob("errdesk-*.whl")
    return built


def test_the_wheel_carries_every_knowledge_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"bot/_knowledge/{path.name}" for path in (ROOT / "knowledge").glob("*.toml")}
    assert expected, "the checkout has knowledge files"
    assert expected <= names, f"missing from the wheel: {expected - names}"


def test_installed_errdesk_works_from_any_folder(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), str(wheel)],
        check=True,
        timeout=300,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("ERRDESK_KNOWLEDGE_DIR", None)
    run = subprocess.run(
        [sys.executable, "-c",
         "import bot, sys; from bot.cli import main; print(bot.__file__); "
         "sys.exit(main(['kb', 'check']))"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    module_file, summary = run.stdout.splitlines()[:2]
    assert module_file.startswith(str(target)), "the installed copy is the one running"
    assert summary.startswith(f"OK: {len(bundled_kb())} entries"), summary
