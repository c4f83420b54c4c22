"""Lint gates: ruff (lint + format), pylint-odoo with OCA's mandatory checks,
shellcheck on the set-up scripts, and the addons' README.rst in step with their
readme/ fragments.

A missing tool is a failure, never a skip: scripts/test installs them from
requirements-dev.txt.
"""

import os
import subprocess

import pytest

from .conftest import REPO_ROOT, VENV_BIN

ADDONS = ["relance_avancee", "relance_avancee_queue_job", "relance_avancee_sale"]
TARGETS = [
    *ADDONS,
    "tests",
    "conftest.py",
    "scripts/screenshots.py",
    "scripts/gen-readme",
]


def _tool(name):
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(
            f"{name} is not installed in {VENV_BIN}: run scripts/test, which "
            "installs requirements-dev.txt into the virtualenv"
        )
    return str(path)


def _run(cmd):
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, env=env, check=False
    )
    output = f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
    return proc.returncode, output


def test_ruff_check():
    # --no-fix: a test must never edit the files it checks
    rc, output = _run([_tool("ruff"), "check", "--no-fix", *TARGETS])
    assert rc == 0, f"ruff check found problems (fix: ruff check --fix)\n{output}"


def test_ruff_format():
    rc, output = _run([_tool("ruff"), "format", "--check", "--diff", *TARGETS])
    assert rc == 0, f"ruff format would change files (fix: ruff format)\n{output}"


def test_pylint_odoo_mandatory_checks():
    _tool("pylint")
    rc, output = _run(
        [
            str(VENV_BIN / "python"),
            "-m",
            "pylint",
            "--rcfile=.pylintrc",
            "--output-format=text",
            *ADDONS,
        ]
    )
    assert rc == 0, f"pylint-odoo (OCA mandatory checks, .pylintrc) failed\n{output}"


def test_shellcheck_scripts():
    scripts = [
        "scripts/lib.sh",
        "scripts/run",
        "scripts/test",
        ".ci/run",
        "bench/run",
        "bench/compare",
    ]
    rc, output = _run(
        [_tool("shellcheck"), "--external-sources", "--severity=warning", *scripts]
    )
    assert rc == 0, f"shellcheck found problems in the scripts\n{output}"


def test_addon_readme_up_to_date():
    rc, output = _run([str(VENV_BIN / "python"), "scripts/gen-readme", "--check"])
    assert rc == 0, (
        "an addon's README.rst is out of date with its readme/*.md "
        f"(fix: scripts/gen-readme)\n{output}"
    )
