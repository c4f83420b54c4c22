"""queue_job's own test helpers, importable on every Odoo 18.0 tree.

queue_job >= 18.0.3.1 registers its method patcher in
``odoo.tests.common.SETATTR_SOURCES``, the list of places allowed to patch
model classes that recent Odoo 18.0 trees check during tests. Older 18.0 trees
have neither the check nor the list: an empty one is then exactly right.
"""

from odoo.tests import common as odoo_tests_common

if not hasattr(odoo_tests_common, "SETATTR_SOURCES"):
    odoo_tests_common.SETATTR_SOURCES = {}

from odoo.addons.queue_job.controllers.main import RunJobController  # noqa: E402
from odoo.addons.queue_job.job import Job  # noqa: E402
from odoo.addons.queue_job.tests.common import (  # noqa: E402
    JobCounter,
    JobMixin,
    trap_jobs,
)

__all__ = ["Job", "JobCounter", "JobMixin", "RunJobController", "trap_jobs"]
