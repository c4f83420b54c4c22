from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceCallLogTour(RelanceCommon, HttpCase):
    """In real Chromium, a collector (billing user) logs the scenario's phone
    call with a promise to pay from the customer's form."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.caller = new_test_user(
            cls.env,
            login="relance_tour_caller",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
        )
        today = fields.Date.today()
        due = today - timedelta(days=20)
        cls.customer = cls._create_customer("Client Promesse", cls.profile_sme)
        cls._invoice(cls.customer, 900.0, due)
        for delay in (3, 12, 18):
            cls.engine._run(cls.company, due + timedelta(days=delay))

    def test_collector_logs_a_call_with_a_promise(self):
        phone = self.env["relance.history"].search(
            [("partner_id", "=", self.customer.id), ("channel", "=", "phone")]
        )
        self.assertEqual(phone.state, "todo")
        self.start_tour(
            f"/odoo/res.partner/{self.customer.id}",
            "relance_call_log_promise",
            login="relance_tour_caller",
            timeout=120,
        )
        self.assertEqual(phone.state, "sent")
        promise = self.env["relance.promise"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(promise.amount, 900.0)
        self.assertEqual(promise.origin, "call")
        self.assertEqual(promise.date, fields.Date.today() + timedelta(days=10))
        self.assertEqual(promise.user_id, self.caller)
        call = self.env["relance.call"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(call.outcome, "promise")
        self.assertEqual(call.note, "Paiement par virement en fin de mois")
