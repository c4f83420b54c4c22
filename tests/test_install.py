"""The addon installs on a database without demo data and uninstalls cleanly."""

from .conftest import (
    ADDON,
    DEMO_DB,
    TEST_DB,
    UNINSTALL_DB,
    module_row,
    pg_cursor,
    run_odoo_shell,
)

UNINSTALL_SCRIPT = f"""
module = env["ir.module.module"].search([("name", "=", "{ADDON}")])
module.button_immediate_uninstall()
env.cr.commit()
"""


def test_installed_without_demo():
    assert module_row(TEST_DB) == ("installed", False), (
        f"{ADDON} must be installed in {TEST_DB}, without demo data"
    )


def test_main_databases_have_no_job_queue():
    # relance_avancee's tests run its own bounded cron: queue_job (and the glue
    # addon, which would hand the run to it) belong to relance_test_queue only.
    for dbname in (TEST_DB, DEMO_DB):
        for module in ("queue_job", "relance_avancee_queue_job"):
            row = module_row(dbname, module)
            assert not row or row[0] == "uninstalled", (
                f"{module} must not be installed in {dbname}: {row}"
            )


def test_uninstall_leaves_nothing_behind():
    assert module_row(UNINSTALL_DB) == ("installed", False), (
        f"{UNINSTALL_DB} must be a fresh copy of {TEST_DB} (scripts/test makes it)"
    )
    proc = run_odoo_shell(UNINSTALL_DB, UNINSTALL_SCRIPT)
    output = f"{proc.stdout}\n{proc.stderr}"
    assert proc.returncode == 0, f"odoo-bin shell failed:\n{output}"

    assert module_row(UNINSTALL_DB)[0] == "uninstalled", output
    with pg_cursor(UNINSTALL_DB) as cr:
        cr.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_name LIKE 'relance\\_%'"
        )
        tables = [row[0] for row in cr.fetchall()]
        cr.execute("SELECT model FROM ir_model WHERE model LIKE 'relance.%'")
        models = [row[0] for row in cr.fetchall()]
        cr.execute(
            "SELECT table_name || '.' || column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name LIKE 'relance\\_%'"
        )
        columns = [row[0] for row in cr.fetchall()]
        cr.execute(
            "SELECT indexname FROM pg_indexes"
            " WHERE schemaname = 'public' AND indexname LIKE 'relance\\_%'"
        )
        indexes = [row[0] for row in cr.fetchall()]
    assert not tables, f"tables left after uninstall: {tables}"
    assert not indexes, f"indexes left after uninstall: {indexes}"
    assert not models, f"models left in ir_model after uninstall: {models}"
    assert not columns, f"columns left after uninstall: {columns}"
