"""Bad input, case by case (issue 11, item 1): each ends in a clear error for
the person who acts, or in a history row in ``error`` carrying its reason,
while the rest of the batch is served and nothing is sent twice.

The cases already proven elsewhere are not repeated here (see
``test_relance_guards``: no, invalid and blacklisted email, archived customer,
invalid or missing mobile, incomplete postal address, deleted template, paid
invoice, credit note, foreign currency; ``test_relance_screens``: a preview
for a future date).
"""

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceBadInputCases(RelanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The people who act: a collector (dunning team with invoicing rights,
        # sends again) and an accountant (invoices, prints the letters; no
        # dunning rights).
        cls.collector_user = new_test_user(
            cls.env,
            login="bad_input_collector",
            groups="account.group_account_invoice,relance_avancee.group_relance_user",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        cls.billing = new_test_user(
            cls.env,
            login="bad_input_billing",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        cls.letter_level = cls.profile_sme._get_sorted_levels().filtered(
            lambda level: level.channel == "letter"
        )[:1]
        cls.reminder_level = cls.profile_sme.level_ids.filtered(
            lambda level: level.delay == 3
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _assert_error(self, rows, fragment):
        self.assertTrue(rows)
        self.assertEqual(set(rows.mapped("state")), {"error"})
        for row in rows:
            self.assertIn(fragment, row.reason)
        self.assertEqual(set(rows.communication_id.mapped("state")), {"error"})

    def _assert_served_once(self, partner, **domain):
        """One sent row and one queued email for ``partner``."""
        rows = self._history(partner, **domain)
        self.assertEqual(len(rows), 1, partner.name)
        self.assertEqual(rows.state, "sent", partner.name)
        self.assertEqual(len(self._mails(partner)), 1, partner.name)

    def _letter(self, partner, day="2026-04-30"):
        """The letter of the print queue for ``partner``'s open invoices, as
        the batch leaves it at the letter step (to do, to print)."""
        day = fields.Date.to_date(day)
        moves = partner.invoice_ids.filtered(lambda m: m.state == "posted")
        rows = self.env["relance.history"].create(
            [
                {
                    "company_id": self.company.id,
                    "partner_id": partner.id,
                    "move_id": move.id,
                    "level_id": self.letter_level.id,
                    "profile_id": self.profile_sme.id,
                    "kind": "reminder",
                    "channel": "letter",
                    "state": "todo",
                    "date": day,
                    "due_date": move.invoice_date_due,
                    "days_overdue": (day - move.invoice_date_due).days,
                    "amount_residual": move.amount_residual,
                    "currency_id": move.currency_id.id,
                    "amount_company": move.amount_residual,
                }
                for move in moves
            ]
        )
        return self.env["relance.communication"].create(
            {
                "company_id": self.company.id,
                "partner_id": partner.id,
                "level_id": self.letter_level.id,
                "profile_id": self.profile_sme.id,
                "channel": "letter",
                "date": day,
                "history_ids": [Command.set(rows.ids)],
            }
        )

    def _print_as_accountant(self, letters):
        wizard = (
            self.env["relance.print.wizard"]
            .with_user(self.billing)
            .create({"communication_ids": [Command.set(letters.ids)]})
        )
        return wizard.action_print()

    def _print_batches(self, letters):
        return self.env["relance.print.batch"].search(
            [("communication_ids", "in", letters.ids)]
        )

    # ------------------------------------------------------------------
    # Recipients
    # ------------------------------------------------------------------

    def test_landline_number_for_an_sms_step_ends_in_error_with_reason(self):
        mobile = self._create_customer("Mobile SARL", self.profile_risk)
        landline = self._create_customer(
            "Fixe SARL", self.profile_risk, mobile=False, phone="01 42 60 30 30"
        )
        for partner in mobile | landline:
            self._invoice(partner, 100.0, "2026-03-31")
        with freeze_time("2026-04-01"):
            self._run("2026-04-01", mobile | landline)
            # A rerun the same day sends nothing again.
            self._run("2026-04-01", mobile | landline)
        row = self._history(landline, channel="sms")
        self._assert_error(row, "is a landline")
        self.assertIn("01 42 60 30 30", row.reason)
        self.assertFalse(self.env["sms.sms"].search([("partner_id", "=", landline.id)]))
        # The email of the same step went, and the other customer got both.
        self._assert_served_once(landline, channel="email", kind="reminder")
        self.assertEqual(self._history(mobile, channel="sms").state, "sent")
        self.assertEqual(
            len(self.env["sms.sms"].search([("partner_id", "=", mobile.id)])), 1
        )

    def test_customer_language_not_installed_ends_in_error_with_reason(self):
        partner = self._create_customer("Sprache GmbH", self.profile_sme)
        other = self._create_customer("Langue Installee", self.profile_sme)
        for customer in partner | other:
            self._invoice(customer, 100.0, "2026-03-31")
        # A language uninstalled after the customer was given it (Odoo refuses
        # to archive it while in use, an import or an older database does not).
        self.env.cr.execute(
            "UPDATE res_partner SET lang = 'xx_XX' WHERE id = %s", [partner.id]
        )
        partner.invalidate_recordset(["lang"])
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner | other)
        row = self._history(partner, kind="reminder")
        self._assert_error(row, "is not installed")
        self.assertIn("xx_XX", row.reason)
        self.assertFalse(self._mails(partner))
        self._assert_served_once(other, kind="reminder")

    # ------------------------------------------------------------------
    # Templates and reports
    # ------------------------------------------------------------------

    def test_archived_email_template_ends_in_error_with_reason(self):
        partner = self._create_customer("Modele Archive", self.profile_sme)
        export = self._create_customer("Export Servi", self.profile_export)
        for customer in partner | export:
            self._invoice(customer, 100.0, "2026-03-31")
        # The step's own template (others use the shipped one) taken out of use.
        template = self.reminder_level.mail_template_id.copy({"name": "Relance SME"})
        self.reminder_level.mail_template_id = template
        template.action_archive()
        with freeze_time("2026-04-05"):
            self._run("2026-04-05", partner | export)
            self._run("2026-04-05", partner | export)
        row = self._history(partner, kind="reminder")
        self._assert_error(row, "is archived")
        self.assertIn(template.name, row.reason)
        self.assertFalse(self._mails(partner))
        # Another profile's template is in use: that customer is served.
        self._assert_served_once(export, kind="reminder")

    def test_template_that_fails_to_render_ends_in_error_with_reason(self):
        # The subject reads the 16th letter of the customer's name: it fails
        # for short names only (bad data for one customer of the chunk).
        self.reminder_level.mail_template_id.subject = (
            "Reminder {{ object.partner_id.name[15] }}"
        )
        short = self._create_customer("Court SA", self.profile_sme)
        long_name = self._create_customer("Etablissements Longuenom", self.profile_sme)
        for customer in short | long_name:
            self._invoice(customer, 100.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            stats = self._run("2026-04-03", short | long_name)
            self._run("2026-04-03", short | long_name)
        self.assertEqual((stats.sent, stats.errors), (1, 1))
        row = self._history(short, kind="reminder")
        self._assert_error(row, "could not be rendered")
        self.assertIn("object.partner_id.name[15]", row.reason)
        self.assertFalse(self._mails(short))
        self._assert_served_once(long_name, kind="reminder")
        self.assertEqual(self._mails(long_name).subject, "Reminder L")

    def test_deleted_letter_report_refuses_the_print_with_reason(self):
        self._create_company_bank_account()
        partner = self._create_customer("Sans Rapport", self.profile_sme)
        self._invoice(partner, 100.0, "2026-03-31")
        letter = self._letter(partner)
        self.letter_level.report_id.unlink()
        with self.assertRaisesRegex(UserError, "has no letter report"):
            self._print_as_accountant(letter)
        self.assertEqual(letter.state, "todo")
        self.assertFalse(self._print_batches(letter))

    # ------------------------------------------------------------------
    # Amounts
    # ------------------------------------------------------------------

    def test_zero_residual_invoice_is_never_reminded(self):
        partner = self._create_customer("Zero SA", self.profile_sme)
        invoice = self._invoice(partner, 0.0, "2026-03-31")
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        with freeze_time("2026-04-03"):
            stats = self._run("2026-04-03", partner)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(partner))
        self.assertFalse(self._mails(partner))

    def test_two_currencies_are_claimed_in_theirs_and_totalled_per_currency(self):
        chf = self.setup_other_currency("CHF", rates=[("2026-01-01", 1.25)])
        partner = self._create_customer("Deux Devises", self.profile_sme)
        local = self._invoice(partner, 300.0, "2026-03-31")
        foreign = self._invoice(partner, 1000.0, "2026-03-31", currency=chf)
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        rows = self._history(partner, kind="reminder")
        self.assertEqual(rows.move_id, local | foreign)
        comm = rows.communication_id
        self.assertEqual(len(comm), 1)
        totals = {t["currency"]: t["amount"] for t in comm._get_totals()}
        self.assertEqual(totals, {self.company.currency_id: 300.0, chf: 1000.0})
        mail = self._mails(partner)
        self.assertEqual(len(mail), 1)
        for total in comm._get_totals():
            self.assertIn(
                total["currency"].format(total["amount"]).replace(" ", "\xa0"),
                mail.body_html.replace(" ", "\xa0"),
            )

    def test_credit_note_larger_than_the_invoice_is_never_reminded(self):
        partner = self._create_customer("Gros Avoir", self.profile_sme)
        invoice = self._invoice(partner, 100.0, "2026-03-31")
        credit = self._credit_note(partner, 150.0, "2026-04-01")
        with freeze_time("2026-04-03"):
            stats = self._run("2026-04-03", partner)
        # Not reconciled: the accountant is asked to, nothing is sent.
        self.assertEqual((stats.blocked, stats.communications), (1, 0))
        self.assertFalse(self._history(partner, kind="reminder"))
        # Reconciled: the invoice is settled; the 50.00 left on the credit note
        # is owed to the customer, never claimed.
        credit_line = credit.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        invoice.js_assign_outstanding_line(credit_line.id)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        self.assertAlmostEqual(credit.amount_residual, 50.0)
        with freeze_time("2026-04-04"):
            stats = self._run("2026-04-04", partner)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(partner, kind="reminder"))
        self.assertFalse(self._mails(partner))

    # ------------------------------------------------------------------
    # Invoices changed after a reminder: their open steps are cancelled
    # ------------------------------------------------------------------

    def _open_task(self):
        """A key account's courtesy notice, waiting for a person (a task)."""
        partner = self._create_customer("Grand Compte", self.profile_key)
        invoice = self._invoice(partner, 5000.0, "2026-03-31")
        with freeze_time("2026-03-26"):
            self._run("2026-03-26", partner)
        row = self._history(partner)
        self.assertEqual(row.state, "todo")
        self.assertTrue(row.communication_id.activity_id)
        return invoice, row

    def _assert_cancelled(self, row, fragment):
        self.assertEqual(row.state, "cancelled")
        self.assertIn(fragment, row.reason)
        comm = row.communication_id
        self.assertEqual(comm.state, "cancelled")
        self.assertIn(fragment, comm.error_reason)
        self.assertFalse(comm.activity_id)
        self.assertFalse(self._mails(row.partner_id))
        # Nothing more is sent for it.
        with freeze_time("2026-04-10"):
            self._run("2026-04-10", row.partner_id)
        self.assertFalse(self._mails(row.partner_id))

    def test_invoice_reset_to_draft_cancels_its_open_steps_with_reason(self):
        invoice, row = self._open_task()
        invoice.with_user(self.billing).button_draft()
        self._assert_cancelled(row, "reset to draft")
        self.assertIn("reset to draft", invoice.message_ids[0].body)

    def test_invoice_reset_to_draft_then_posted_again_is_chased_again(self):
        invoice, row = self._open_task()
        partner = row.partner_id
        other = self._invoice(partner, 700.0, "2026-03-31")
        invoice.with_user(self.billing).button_draft()
        invoice.with_user(self.billing).action_post()
        # The scenario goes on for both invoices: the cancelled notice is not
        # in the way of the steps that follow (nor of the customer's others).
        with freeze_time("2026-04-05"):
            self._run("2026-04-05", partner)
        steps = self._history(partner, kind="reminder")
        self.assertEqual(steps.move_id, invoice | other)
        self.assertEqual(set(steps.mapped("state")), {"todo"})
        self.assertEqual(len(steps.communication_id), 1)
        self.assertEqual(row.state, "cancelled")

    def test_invoice_cancelled_cancels_its_open_steps_with_reason(self):
        invoice, row = self._open_task()
        invoice.with_user(self.billing).button_cancel()
        self._assert_cancelled(row, "was cancelled")

    def test_invoice_reversed_cancels_its_open_steps_with_reason(self):
        invoice, row = self._open_task()
        reversal = (
            self.env["account.move.reversal"]
            .with_user(self.billing)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "date": "2026-03-27"})
        )
        reversal.modify_moves()
        self.assertEqual(invoice.payment_state, "reversed")
        self._assert_cancelled(row, "reversed by a credit note")

    def test_invoice_cancelled_after_a_failed_reminder_closes_its_error(self):
        partner = self._create_customer(
            "Erreur Puis Annule", self.profile_sme, email="not-an-email"
        )
        invoice = self._invoice(partner, 100.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        row = self._history(partner, kind="reminder")
        self._assert_error(row, "is invalid")
        invoice.with_user(self.billing).button_cancel()
        self.assertEqual(row.state, "cancelled")
        self.assertIn("was cancelled", row.reason)
        # Nothing left to send again.
        with self.assertRaisesRegex(UserError, "Only communications in error"):
            row.communication_id.with_user(self.collector_user).action_retry()
        self.assertFalse(self._mails(partner))

    # ------------------------------------------------------------------
    # Letters
    # ------------------------------------------------------------------

    def test_company_without_bank_account_cannot_print_letters(self):
        partner = self._create_customer("Lettre Sans Banque", self.profile_sme)
        self._invoice(partner, 100.0, "2026-03-31")
        letter = self._letter(partner)
        self.assertFalse(self.company._relance_get_bank_account())
        with self.assertRaisesRegex(UserError, "has no bank account"):
            self._print_as_accountant(letter)
        self.assertEqual(letter.state, "todo")
        self.assertFalse(self._print_batches(letter))
        # With our bank account, the same letter prints (still to confirm).
        self._create_company_bank_account()
        self._print_as_accountant(letter)
        self.assertEqual(len(self._print_batches(letter)), 1)
        self.assertEqual(letter.state, "todo")

    # ------------------------------------------------------------------
    # The reason in the user's language
    # ------------------------------------------------------------------

    def test_error_reason_is_written_in_the_users_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["relance_avancee"], ["fr_FR"], overwrite=True
        )
        partner = self._create_customer(
            "Client Francais", self.profile_sme, email="jean@@x"
        )
        self._invoice(partner, 100.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            self.engine.with_context(lang="fr_FR")._run(
                self.company, fields.Date.to_date("2026-04-03"), partner.ids
            )
        row = self._history(partner, kind="reminder")
        self._assert_error(row, "n'est pas valide")
        self.assertIn("jean@@x", row.reason)
        self.assertNotIn("is invalid", row.reason)
