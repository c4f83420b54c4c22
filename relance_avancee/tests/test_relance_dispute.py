from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceDispute(RelanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls._create_customer("Conteste SA", cls.profile_sme)
        cls.invoice = cls._invoice(cls.partner, 700.0, "2026-03-31")

    def _open_dispute(self, user=None, reason="late_delivery"):
        env = self.env(user=user) if user else self.env
        wizard = env["relance.dispute.wizard"].create(
            {
                "move_id": self.invoice.id,
                "reason": reason,
                "note": "<p>Delivered late</p>",
            }
        )
        wizard.action_confirm()
        return self.invoice.relance_dispute_ids

    def test_salesperson_can_flag_a_dispute(self):
        salesperson = new_test_user(
            self.env,
            login="sales_dispute",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.company.id,
        )
        dispute = self._open_dispute(user=salesperson)
        self.assertEqual(dispute.owner_id, salesperson)
        self.assertEqual(dispute.state, "open")
        self.assertTrue(self.invoice.relance_in_dispute)
        self.assertIn("Dispute opened", self.invoice.message_ids[0].body)

    def test_dispute_pauses_then_rejection_resumes(self):
        dispute = self._open_dispute()
        with freeze_time("2026-04-03"):
            stats = self._run("2026-04-03", self.partner)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(self.partner, kind="reminder"))
        with freeze_time("2026-04-10"):
            dispute.action_reject()
            self.assertEqual(dispute.date_resolved, dispute.date_resolved.today())
            self.assertFalse(self.invoice.relance_in_dispute)
            self._run("2026-04-10", self.partner)
        self.assertEqual(self._history(self.partner, kind="reminder").state, "sent")
        messages = self.invoice.message_ids.mapped("body")
        self.assertTrue(any("reminders resume" in body for body in messages))
        with self.assertRaises(UserError):
            dispute.action_reject()

    def test_accepted_dispute_opens_the_credit_note_wizard(self):
        dispute = self._open_dispute(reason="not_compliant")
        action = dispute.action_accept()
        # Accepted once the credit note exists, not when the wizard opens.
        self.assertEqual(dispute.state, "open")
        self.assertEqual(action["res_model"], "account.move.reversal")
        reversal = (
            self.env["account.move.reversal"]
            .with_context(**action["context"])
            .create({"journal_id": self.invoice.journal_id.id})
        )
        reversal.refund_moves()
        credit_note = dispute.credit_note_id
        self.assertTrue(credit_note, "the credit note is linked to its dispute")
        self.assertEqual(credit_note.move_type, "out_refund")
        # Posting the reversal reconciles it with the invoice.
        credit_note.action_post()
        self.assertEqual(self.invoice.payment_state, "reversed")
        self.assertEqual(dispute.state, "accepted")

    def test_dispute_on_a_payment_pauses_nothing_else(self):
        other = self._invoice(self.partner, 100.0, "2026-03-31")
        self._open_dispute()
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.partner)
        self.assertEqual(self._history(self.partner, kind="reminder").move_id, other)

    def test_only_customer_invoices_can_be_disputed(self):
        refund = self._credit_note(self.partner, 10.0, "2026-03-01")
        with self.assertRaises(UserError):
            self.env["relance.dispute"].create(
                {"move_id": refund.id, "reason": "price"}
            )
