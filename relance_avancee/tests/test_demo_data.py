from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """The French demo shows every side of dunning (runs on a database
    installed with demo data)."""

    def setUp(self):
        super().setUp()
        self.company = self.env.ref(
            "relance_avancee.relance_company_demo", raise_if_not_found=False
        )
        if not self.company:
            self.skipTest("The addon is installed without its demo data.")

    def test_demo_has_an_open_promise_and_an_annotation(self):
        invoice = self.env.ref("relance_avancee.relance_invoice_dubois_1_demo")
        promise = self.env["relance.promise"].search(
            [("company_id", "=", self.company.id), ("state", "=", "open")]
        )
        self.assertEqual(promise.move_ids, invoice)
        self.assertEqual(promise.amount, invoice.amount_residual)
        self.assertEqual(invoice.relance_pause_until, promise.date)
        annotation = invoice.relance_annotation_ids
        self.assertEqual(annotation.kind, "payment_planned")
        self.assertEqual(annotation.user_id, promise.user_id)
        # Not a customer waiting for a person: its scenario is automatic.
        self.assertFalse(
            self.env["relance.communication"].search(
                [("partner_id", "=", promise.partner_id.id), ("state", "=", "todo")]
            )
        )
