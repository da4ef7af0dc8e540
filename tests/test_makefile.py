"""The README's two commands, as make would run them on a fresh clone (``make -n -B``: printed, not run)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "-n", "-B", "VENV=/nonexistent/venv", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def installed(plan: str) -> list[str]:
    return re.findall(r"pip install --quiet -r (\S+)", plan)


def test_make_run_installs_only_what_runs_and_links_follow_host():
    plan = dry_run("run", "HOST=127.0.0.1:18100")
    assert installed(plan) == ["requirements.txt"]
    assert "PORTAL_BASE_URL=${PORTAL_BASE_URL:-http://127.0.0.1:18100}" in plan
    assert "runserver 127.0.0.1:18100" in plan


def test_make_test_adds_the_test_tools_and_make_bench_the_yardsticks():
    assert installed(dry_run("test")) == ["requirements.txt", "requirements-test.txt"]
    bench = ["requirements.txt", "requirements-test.txt", "requirements-bench.txt"]
    assert installed(dry_run("bench")) == bench


def test_no_runtime_requirement_is_a_test_tool():
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("pytest", "playwright", "schemathesis", "moto", "boto3", "huaweicloudsdk", "ruff"):
        assert tool not in runtime, tool
