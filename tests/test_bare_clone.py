"""A bare clone, without ../shared: every test still collects, the tests that read the shared fixtures fail
with one sentence (shared_paths.MISSING) and the others pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def pytest_without_shared(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEDIT_SHARED": str(tmp_path / "no-such-folder"), "COLUMNS": "1000"}  # whole summary lines
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE", *args],
                          cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=600)


def test_every_test_collects_without_the_shared_folder(tmp_path):
    done = pytest_without_shared(tmp_path, "--collect-only", str(TESTS))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " collected" in done.stdout and "error" not in done.stdout.lower().splitlines()[-1]


def test_the_tests_that_read_it_fail_in_one_sentence_and_the_others_pass(tmp_path):
    done = pytest_without_shared(tmp_path, "--tb=no", str(TESTS / "io" / "test_format_schemas.py"))
    summary = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert summary and all("this test reads the shared fixtures, which are not in" in line for line in summary)
    assert " passed" in done.stdout.splitlines()[-1]
