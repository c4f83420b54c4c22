from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .test_relance_tours import RelanceTourCase


@tagged("post_install", "-at_install")
class TestRelancePortalTour(RelanceTourCase):
    """In real Chromium, the customer (the public user, not logged in) opens
    the link of a reminder email and promises to pay. The browser's clock
    cannot be frozen: the dates follow today."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.today()
        cls.customer = cls._create_customer("Client Portail", cls.profile_sme)
        cls.invoice = cls._invoice(cls.customer, 1500.0, today - timedelta(days=5))
        cls.engine._run(cls.company, today)
        cls.comm = cls.env["relance.communication"].search(
            [("partner_id", "=", cls.customer.id), ("channel", "=", "email")]
        )

    def test_customer_promises_to_pay_from_the_reminder_link(self):
        self.assertEqual(self.comm.move_ids, self.invoice)
        link = self.comm._get_portal_link()
        self._start_tour(
            link.replace(self.comm.get_base_url(), ""),
            "relance_portal_promise",
            None,
        )
        promise = self.env["relance.promise"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertRecordValues(
            promise,
            [
                {
                    "origin": "portal",
                    "state": "open",
                    "amount": 500.0,
                    "date": fields.Date.today() + timedelta(days=7),
                    "user_id": self.collector.id,
                }
            ],
        )
        self.assertEqual(promise.move_ids, self.invoice)
        self.assertTrue(
            self.customer.message_ids.filtered(
                lambda m: "promised to pay" in (m.body or "")
            )
        )
