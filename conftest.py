"""Repository-wide pytest hooks (they apply to the addon's tests too).

A browser test (Odoo ``HttpCase`` tour) that Odoo skips because Chromium or
``websocket-client`` is missing, or because pytest-odoo did not start its HTTP
server, proved nothing: it is reported as a failure instead of a skip.
Set ``RELANCE_ALLOW_BROWSER_SKIP=1`` to accept such skips on a machine without
a browser.

Odoo waits 10 s for Chromium to start: a first start on a cold, busy machine
(the bridges' database installs in the background meanwhile) can take longer,
which Odoo would report as a skip. We wait up to ``RELANCE_BROWSER_WAIT``
seconds (60 by default).
"""

import os
import re
import sys

import pytest

_BROWSER_SKIP = re.compile(
    r"chrome|chromium|websocket|devtools|HttpCase|--odoo-http", re.IGNORECASE
)


def _skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def pytest_runtest_setup(item):
    common = sys.modules.get("odoo.tests.common")
    if common is not None and hasattr(common, "CHECK_BROWSER_ITERATIONS"):
        wait = float(os.environ.get("RELANCE_BROWSER_WAIT", "60"))
        common.CHECK_BROWSER_ITERATIONS = max(
            common.CHECK_BROWSER_ITERATIONS,
            int(wait / common.CHECK_BROWSER_SLEEP),
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and not os.environ.get("RELANCE_ALLOW_BROWSER_SKIP")
    ):
        reason = _skip_reason(report)
        if _BROWSER_SKIP.search(reason):
            report.outcome = "failed"
            report.longrepr = (
                f"browser test did not run ({reason}): a tour that never ran "
                "proves nothing. scripts/test installs chromium when the addon "
                "has tours; set RELANCE_ALLOW_BROWSER_SKIP=1 to accept the skip."
            )
    return report
