from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .test_relance_statement import RelancePdfCommon, pdf_to_text


@tagged("post_install", "-at_install")
class TestRelanceHandover(RelancePdfCommon):
    """Handing a customer over to collection: one PDF file, the dunning
    stopped, and taken back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing = new_test_user(
            cls.env,
            login="handover_billing",
            groups="base.group_user,account.group_account_invoice",
        )
        cls.customer = cls._create_customer("Handover Customer", cls.profile_sme)
        cls.invoice_1 = cls._invoice(cls.customer, 1200.0, "2026-03-31")
        cls.invoice_2 = cls._invoice(cls.customer, 300.0, "2026-03-31")

    def _hand_over(self, user=None, **values):
        Wizard = self.env["relance.handover.wizard"].with_context(
            force_report_rendering=True,
            active_model="res.partner",
            active_id=self.customer.id,
        )
        if user:
            Wizard = Wizard.with_user(user)
        wizard = Wizard.create(dict({"to_name": "Cabinet Recouvrement"}, **values))
        return wizard.action_confirm()

    def test_handover_file_stops_the_dunning_until_taken_back(self):
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not available")
        # Two reminders by email: on April 3 and April 12 (steps 3 and 12).
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.customer)
        with freeze_time("2026-04-12"):
            self._run("2026-04-12", self.customer)
        self.assertEqual(len(self._mails(self.customer)), 2)
        with freeze_time("2026-04-20"):
            action = self._hand_over(user=self.billing, note="Urgent file")
        attachment = self.env["ir.attachment"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("name", "like", "Handover file"),
            ]
        )
        self.assertEqual(len(attachment), 1)
        self.assertIn(str(attachment.id), action["url"])
        self.assertTrue(attachment.raw.startswith(b"%PDF"))
        text = pdf_to_text(attachment.raw)
        # The statement, with its total.
        self.assertIn("Statement of account", text)
        self.assertIn("Balance due $ 1,500.00", text)
        # Each unpaid invoice's own PDF (its number and amount).
        for invoice in self.invoice_1 | self.invoice_2:
            self.assertGreaterEqual(text.count(invoice.name), 3, invoice.name)
        # The proof of the amicable phase: each reminder, its date and channel.
        self.assertIn("proof of the amicable phase", text)
        self.assertRegex(text, r"04/03/2026 \S.* Email Handover Customer")
        self.assertRegex(text, r"04/12/2026 \S.* Email Handover Customer")
        self.assertEqual(text.count(" Email Handover Customer "), 4)
        # The customer is marked handed over, said in its chatter.
        self.assertEqual(self.customer.relance_handover_state, "handed_over")
        self.assertEqual(str(self.customer.relance_handover_date), "2026-04-20")
        self.assertEqual(self.customer.relance_handover_to, "Cabinet Recouvrement")
        message = self.customer.message_ids[:1]
        self.assertIn("Cabinet Recouvrement", message.body)
        self.assertEqual(message.attachment_ids, attachment)
        # The batch sends it nothing any more.
        with freeze_time("2026-04-25"):
            self._run("2026-04-25", self.customer)
        self.assertEqual(len(self._mails(self.customer)), 2)
        self.assertEqual(len(self._history(self.customer, kind="reminder")), 4)
        # Taken back: the dunning resumes.
        self.customer.with_user(self.billing).action_relance_take_back()
        self.assertEqual(self.customer.relance_handover_state, "none")
        self.assertFalse(self.customer.relance_handover_to)
        self.assertIn("taken back", self.customer.message_ids[:1].body)
        with freeze_time("2026-04-26"):
            self._run("2026-04-26", self.customer)
        self.assertGreater(len(self._history(self.customer, kind="reminder")), 4)

    def test_handed_over_customer_is_not_planned(self):
        self.customer.relance_handover_state = "handed_over"
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.customer)
        self.assertFalse(self._history(self.customer))
        self.assertFalse(self._mails(self.customer))

    def test_salesperson_cannot_hand_over(self):
        salesperson = new_test_user(
            self.env, login="handover_sales", groups="base.group_user"
        )
        self.customer.user_id = salesperson
        with self.assertRaises(AccessError):
            self._hand_over(user=salesperson)
        self.customer.relance_handover_state = "handed_over"
        with self.assertRaises(AccessError):
            self.customer.with_user(salesperson).action_relance_take_back()
        self.assertEqual(self.customer.relance_handover_state, "handed_over")

    def test_handover_file_carries_the_formal_notice_and_its_number(self):
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not available")
        other = self._create_customer("Someone Else SARL", self.profile_sme)
        self._invoice(other, 800.0, "2026-03-31")
        level = self.profile_sme._get_sorted_levels().filtered(
            lambda lvl: lvl.channel == "formal_notice"
        )
        notices = self.env["relance.communication"]
        for customer in self.customer | other:
            rows = self.env["relance.history"].create(
                [
                    {
                        "company_id": self.company.id,
                        "partner_id": customer.id,
                        "move_id": move.id,
                        "level_id": level.id,
                        "kind": "reminder",
                        "channel": "formal_notice",
                        "state": "todo",
                        "date": "2026-05-15",
                        "due_date": move.invoice_date_due,
                        "amount_residual": move.amount_residual,
                        "currency_id": move.currency_id.id,
                        "amount_company": move.amount_residual,
                    }
                    for move in customer.invoice_ids
                ]
            )
            notices |= self.env["relance.communication"].create(
                {
                    "company_id": self.company.id,
                    "partner_id": customer.id,
                    "level_id": level.id,
                    "channel": "formal_notice",
                    "manual": True,
                    "date": "2026-05-15",
                    "history_ids": [(6, 0, rows.ids)],
                }
            )
        self._create_company_bank_account()
        with freeze_time("2026-05-15"):
            # Both notices printed together (one PDF for both customers) and
            # sent by registered letter.
            notices.with_context(force_report_rendering=True).action_print()
            notices[0].registered_number = "1A 111 222 3334 5"
        with freeze_time("2026-06-01"):
            self._hand_over(user=self.billing)
        attachment = self.env["ir.attachment"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("name", "like", "Handover file"),
            ]
        )
        text = pdf_to_text(attachment.raw)
        self.assertIn("Formal notice to pay", text)
        self.assertIn("Registered letter no. 1A 111 222 3334 5", text)
        # Only this customer's notice, never the other customer's.
        self.assertNotIn("Someone Else SARL", text)
