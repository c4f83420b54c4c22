from odoo.tests import TransactionCase, tagged

from odoo.addons.relance_avancee.tests.i18n_common import FrPoCompleteMixin


@tagged("post_install", "-at_install")
class TestRelanceQueueJobI18n(FrPoCompleteMixin, TransactionCase):
    def test_fr_po_translates_every_term(self):
        """Labels, selection values, views, job descriptions and results of
        the glue, all in French."""
        self._assert_fr_po_complete(
            "relance_avancee_queue_job", "Handed to the job queue"
        )
