from odoo.tests import TransactionCase, tagged

from odoo.addons.relance_avancee.tests.i18n_common import FrPoCompleteMixin


@tagged("post_install", "-at_install")
class TestRelanceSaleI18n(FrPoCompleteMixin, TransactionCase):
    def test_fr_po_translates_every_term(self):
        self._assert_fr_po_complete("relance_avancee_sale", "Reminder history")
