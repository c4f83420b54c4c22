"""Shared helpers of the repository-level tests (run by ``scripts/test``).

``scripts/test`` creates the databases and the Odoo configuration and exports
their names; the defaults below let ``pytest`` be run by hand after it.
"""

import configparser
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import psycopg2
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ADDON = "relance_avancee"
ODOO_PATH = Path(os.environ.get("ODOO_PATH", "/opt/odoo"))
ODOO_CONF = Path(
    os.environ.get("RELANCE_ODOO_CONF", str(REPO_ROOT / ".run" / "odoo.conf"))
)
TEST_DB = os.environ.get("RELANCE_TEST_DB", "relance_test")
DEMO_DB = os.environ.get("RELANCE_TEST_DEMO_DB", "relance_test_demo")
UNINSTALL_DB = os.environ.get("RELANCE_TEST_UNINSTALL_DB", "relance_test_uninstall")
# tools (ruff, pylint) live next to the interpreter running pytest
VENV_BIN = Path(sys.executable).parent


def odoo_options():
    """The ``[options]`` section of the generated Odoo configuration."""
    if not ODOO_CONF.is_file():
        pytest.fail(f"{ODOO_CONF} does not exist: run scripts/test (it generates it)")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ODOO_CONF)
    return parser["options"]


@contextmanager
def pg_cursor(dbname):
    """A psycopg2 cursor on ``dbname`` in the project's private cluster.

    Nothing is committed: the connection is rolled back and closed on exit.
    """
    opts = odoo_options()
    conn = psycopg2.connect(
        host=opts["db_host"],
        port=int(opts["db_port"]),
        user=opts["db_user"],
        dbname=dbname,
        connect_timeout=10,
    )
    try:
        with conn.cursor() as cr:
            yield cr
    finally:
        conn.rollback()
        conn.close()


def module_row(dbname, module=ADDON):
    """``(state, demo)`` of ``module`` in ``dbname``, or None if unknown."""
    with pg_cursor(dbname) as cr:
        cr.execute(
            "SELECT state, demo FROM ir_module_module WHERE name = %s", (module,)
        )
        return cr.fetchone()


@contextmanager
def odoo_env(dbname):
    """A superuser ``odoo.api.Environment`` on ``dbname``, rolled back on exit.

    The registry is opened with ``test_enable`` off: with it on (pytest-odoo
    turns it on around test modules), Odoo would run the at_install tests of
    every installed module while loading the registry.
    """
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    with mock.patch.dict(config.options, {"test_enable": False}):
        registry = Registry(dbname)
    cr = registry.cursor()
    try:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    finally:
        cr.rollback()
        cr.close()


def run_odoo_shell(dbname, script, timeout=900):
    """Run ``script`` in ``odoo-bin shell`` on ``dbname``; return the process."""
    return subprocess.run(
        [
            sys.executable,
            str(ODOO_PATH / "odoo-bin"),
            "shell",
            "-c",
            str(ODOO_CONF),
            "-d",
            dbname,
            "--no-http",
            "--log-level=warn",
        ],
        input=script,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        check=False,
    )
