from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.base.models.ir_actions_report import IrActionsReport

from ..models import account_move
from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceNeverChase(RelanceCommon):
    """What must not be chased is not, and says why."""

    def test_paid_invoice_is_not_reminded(self):
        partner = self._create_customer("Payeur SA", self.profile_sme)
        invoice = self._invoice(partner, 500.0, "2026-03-31")
        self._pay(invoice, "2026-03-30")
        with freeze_time("2026-04-03"):
            stats = self._run("2026-04-03", partner)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(partner, kind="reminder"))

    def test_credit_note_is_never_reminded(self):
        partner = self._create_customer("Avoir SA", self.profile_sme)
        self._credit_note(partner, 80.0, "2026-03-01")
        with freeze_time("2026-04-03"):
            stats = self._run("2026-04-03", partner)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(partner))

    def test_disputed_invoice_pauses_while_others_go_on(self):
        partner = self._create_customer("Litige SARL", self.profile_sme)
        disputed = self._invoice(partner, 300.0, "2026-03-31")
        other = self._invoice(partner, 200.0, "2026-03-31")
        wizard = self.env["relance.dispute.wizard"].create(
            {
                "move_id": disputed.id,
                "reason": "wrong_goods",
                "note": "<p>Pallet broken</p>",
            }
        )
        wizard.action_confirm()
        self.assertTrue(disputed.relance_in_dispute)
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        reminders = self._history(partner, kind="reminder")
        self.assertEqual(reminders.move_id, other)
        mail = self._mails(partner)
        self.assertIn(other.name, mail.body_html)
        self.assertNotIn(disputed.name, mail.body_html)

    def test_excluded_customer_is_not_reminded(self):
        partner = self._create_customer(
            "Exclu SA", self.profile_sme, relance_excluded=True
        )
        self._invoice(partner, 500.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            stats = self._run("2026-04-03", partner)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(partner))

    def test_unreconciled_payment_covering_asks_to_reconcile(self):
        partner = self._create_customer("Virement SA", self.profile_sme)
        self._invoice(partner, 500.0, "2026-03-31")
        self._unreconciled_payment(partner, 500.0, "2026-04-01")
        reconcile_type = self.env.ref(
            "relance_avancee.mail_activity_type_relance_reconcile"
        )
        for day in ("2026-04-03", "2026-04-04"):
            with freeze_time(day):
                stats = self._run(day, partner)
            self.assertEqual(stats.communications, 0)
            self.assertEqual(stats.blocked, 1)
        self.assertFalse(self._history(partner, kind="reminder"))
        activities = partner.activity_ids.filtered(
            lambda a: a.activity_type_id == reconcile_type
        )
        self.assertEqual(len(activities), 1, "one activity, not one per day")
        self.assertEqual(activities.user_id, self.collector)

    def test_partial_credit_does_not_block(self):
        partner = self._create_customer("Acompte SA", self.profile_sme)
        self._invoice(partner, 500.0, "2026-03-31")
        self._unreconciled_payment(partner, 100.0, "2026-04-01")
        with freeze_time("2026-04-03"):
            stats = self._run("2026-04-03", partner)
        self.assertEqual(stats.blocked, 0)
        self.assertEqual(self._history(partner, kind="reminder").state, "sent")

    def test_amount_below_minimum_is_skipped_with_reason(self):
        self.company.relance_min_amount = 50.0
        partner = self._create_customer("Petit SA", self.profile_sme)
        self._invoice(partner, 20.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        row = self._history(partner, kind="reminder")
        self.assertEqual(row.state, "skipped")
        self.assertIn("minimum", row.reason)
        self.assertFalse(self._mails(partner))


@tagged("post_install", "-at_install")
class TestRelanceBadInput(RelanceCommon):
    """Bad customer data ends as an error row with its reason; others are served."""

    def _assert_error(self, partner, fragment, **domain):
        row = self._history(partner, **domain)
        self.assertEqual(len(row), 1)
        self.assertEqual(row.state, "error")
        self.assertIn(fragment, row.reason)
        self.assertEqual(row.communication_id.state, "error")

    def test_bad_recipients_are_errors_while_others_are_served(self):
        good = self._create_customer("Bon Client", self.profile_sme)
        no_email = self._create_customer("Sans Email", self.profile_sme, email=False)
        bad_email = self._create_customer(
            "Mauvais Email", self.profile_sme, email="jean@@x"
        )
        blacklisted = self._create_customer("Liste Noire", self.profile_sme)
        self.env["mail.blacklist"].create({"email": blacklisted.email})
        archived = self._create_customer("Archive SA", self.profile_sme)
        customers = good | no_email | bad_email | blacklisted | archived
        for partner in customers:
            self._invoice(partner, 100.0, "2026-03-31")
        archived.action_archive()
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", customers)
        self.assertEqual(self._history(good, kind="reminder").state, "sent")
        self.assertEqual(len(self._mails(good)), 1)
        self._assert_error(no_email, "no email address", kind="reminder")
        self._assert_error(bad_email, "is invalid", kind="reminder")
        self._assert_error(blacklisted, "blacklisted", kind="reminder")
        self._assert_error(archived, "archived", kind="reminder")
        for partner in no_email | bad_email | blacklisted | archived:
            self.assertFalse(self._mails(partner))

    def test_invalid_phone_is_an_error_valid_one_is_e164(self):
        good = self._create_customer(
            "Bon Mobile", self.profile_risk, mobile="06 12 34 56 78"
        )
        bad = self._create_customer("Mauvais Mobile", self.profile_risk, mobile="12")
        none = self._create_customer(
            "Sans Mobile", self.profile_risk, mobile=False, phone=False
        )
        for partner in good | bad | none:
            self._invoice(partner, 100.0, "2026-03-31")
        with freeze_time("2026-04-01"):
            self._run("2026-04-01", good | bad | none)
        sms_row = self._history(good, channel="sms")
        self.assertEqual(sms_row.state, "sent")
        sms = self.env["sms.sms"].search([("partner_id", "=", good.id)])
        self.assertEqual(sms.number, "+33612345678")
        self.assertEqual(sms.state, "outgoing")
        self.assertIn("overdue", sms.body)
        self._assert_error(bad, "invalid", channel="sms")
        self._assert_error(none, "no mobile", channel="sms")
        # The email of the same step went out for all three.
        for partner in good | bad | none:
            self.assertEqual(
                self._history(partner, channel="email", kind="reminder").state, "sent"
            )

    def test_letter_without_address_is_an_error(self):
        partner = self._create_customer(
            "Sans Adresse", self.profile_sme, street=False, zip=False
        )
        self._invoice(partner, 100.0, "2026-03-01")
        # Walk the scenario up to the letter (D+30), marking the call done.
        for day in ("2026-03-04", "2026-03-13", "2026-03-19"):
            with freeze_time(day):
                self._run(day, partner)
        with freeze_time("2026-03-19"):
            self._history(partner, channel="phone").communication_id.action_mark_done()
        with freeze_time("2026-03-31"):
            self._run("2026-03-31", partner)
        self._assert_error(partner, "street, zip code", channel="letter")

    def _attach_invoice_pdfs(self, profile):
        profile.level_ids.filtered(lambda lvl: lvl.channel == "email").write(
            {"attach_invoice_pdf": True}
        )

    def test_reminder_goes_out_when_invoice_pdfs_cannot_be_rendered(self):
        self._attach_invoice_pdfs(self.profile_sme)
        partner = self._create_customer("Sans Pdf", self.profile_sme)
        self._invoice(partner, 100.0, "2026-03-31")
        # wkhtmltopdf failing (e.g. no server to fetch stylesheets from).
        with (
            patch.object(
                IrActionsReport,
                "_pre_render_qweb_pdf",
                side_effect=UserError("Wkhtmltopdf failed (error code: -11)."),
            ) as render,
            freeze_time("2026-04-03"),
        ):
            self._run("2026-04-03", partner)
        # Tried once, before the customer was locked; not again under the lock.
        self.assertEqual(render.call_count, 1)
        row = self._history(partner, kind="reminder")
        self.assertEqual(row.state, "sent")
        self.assertIn("without the invoice PDFs", row.reason)
        self.assertIn("error code: -11", row.reason)
        mail = self._mails(partner)
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.attachment_ids)

    def test_invoice_pdfs_rendered_one_by_one_when_combined_render_fails(self):
        self._attach_invoice_pdfs(self.profile_sme)
        partner = self._create_customer("Deux Pdf", self.profile_sme)
        self._invoice(partner, 100.0, "2026-03-31")
        self._invoice(partner, 200.0, "2026-03-31")
        original = IrActionsReport._pre_render_qweb_pdf

        def fails_on_many(report, report_ref, res_ids=None, data=None):
            # wkhtmltopdf's combined output empty (no stylesheet server).
            if res_ids and len(res_ids) > 1:
                raise ValueError("Cannot read an empty file")
            return original(report, report_ref, res_ids=res_ids, data=data)

        with (
            patch.object(IrActionsReport, "_pre_render_qweb_pdf", fails_on_many),
            patch.object(account_move, "_COMBINED_PDF", [False]),
            freeze_time("2026-04-03"),
        ):
            self._run("2026-04-03", partner)
        mail = self._mails(partner)
        self.assertEqual(len(mail.attachment_ids), 2)
        self.assertFalse(self._history(partner, kind="reminder").mapped("reason")[0])

    def test_missing_template_is_an_error(self):
        partner = self._create_customer("Sans Modele", self.profile_sme)
        self._invoice(partner, 100.0, "2026-03-31")
        level = self.profile_sme.level_ids.filtered(lambda lvl: lvl.delay == 3)
        # Deleting the template a step uses leaves the step without one.
        level.mail_template_id.unlink()
        self.assertFalse(level.mail_template_id)
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        self._assert_error(partner, "No email template", kind="reminder")

    def test_foreign_currency_invoice_is_reminded_in_its_currency(self):
        chf = self.setup_other_currency("CHF", rates=[("2026-01-01", 1.25)])
        partner = self._create_customer("Export Inc", self.profile_export)
        invoice = self._invoice(partner, 1000.0, "2026-03-31", currency=chf)
        with freeze_time("2026-04-05"):
            self._run("2026-04-05", partner)
        row = self._history(partner, kind="reminder")
        self.assertEqual(row.currency_id, chf)
        self.assertAlmostEqual(row.amount_residual, 1000.0)
        self.assertAlmostEqual(row.amount_company, 800.0)
        mail = self._mails(partner)
        self.assertIn(invoice.name, mail.body_html)
        self.assertIn("1,000.00", mail.body_html)

    def test_billing_contact_receives_the_reminder(self):
        partner = self._create_customer("Maison Mere", self.profile_sme)
        billing = self.env["res.partner"].create(
            {
                "name": "Service Comptable",
                "type": "invoice",
                "parent_id": partner.id,
                "email": "compta@maison-mere.example.com",
            }
        )
        self._invoice(partner, 100.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        mail = self.env["mail.mail"].search([("recipient_ids", "in", billing.ids)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(
            self._history(partner, kind="reminder").communication_id.recipient_id,
            billing,
        )


@tagged("post_install", "-at_install")
class TestRelanceProfilesThroughTime(RelanceCommon):
    def test_key_account_every_step_is_a_task(self):
        salesperson = self.env["res.users"].create(
            {
                "name": "Sam Sales",
                "login": "sam_sales",
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
            }
        )
        partner = self._create_customer(
            "Grand Groupe", self.profile_key, user_id=salesperson.id
        )
        invoice = self._invoice(partner, 50000.0, "2026-03-31")
        with freeze_time("2026-03-26"):
            self._run("2026-03-26", partner)
        row = self._history(partner, kind="courtesy")
        self.assertEqual(row.state, "todo")
        comm = row.communication_id
        self.assertTrue(comm.manual)
        self.assertEqual(comm.activity_id.user_id, salesperson)
        self.assertFalse(self._mails(partner), "a person sends it, not the batch")
        # The salesperson sends it from the communication: mail queued, task done.
        comm.action_send()
        self.assertEqual(row.state, "sent")
        self.assertFalse(comm.activity_id)
        self.assertEqual(len(self._mails(partner)), 1)
        self.assertIn(invoice.name, self._mails(partner).body_html)

    def test_export_customer_spacing(self):
        partner = self._create_customer(
            "Export GmbH", self.profile_export, lang="en_US"
        )
        self._invoice(partner, 900.0, "2026-03-31")
        expected = {
            "2026-03-23": "courtesy",
            "2026-04-05": "email",
            "2026-04-15": "email",
            "2026-04-25": "phone",
        }
        for day in expected:
            with freeze_time(day):
                self._run(day, partner)
        self.assertEqual(
            self._history(partner).mapped("level_id.delay"), [-8, 5, 15, 25]
        )

    def test_at_risk_customer_email_and_sms_same_day(self):
        partner = self._create_customer("Risque SARL", self.profile_risk)
        invoice = self._invoice(partner, 400.0, "2026-03-31")
        with freeze_time("2026-04-01"):
            stats = self._run("2026-04-01", partner)
        self.assertEqual(stats.communications, 2)
        rows = self._history(partner, kind="reminder")
        self.assertEqual(sorted(rows.mapped("channel")), ["email", "sms"])
        # After one written reminder, the phone call at D+5.
        with freeze_time("2026-04-05"):
            self._run("2026-04-05", partner)
        call = self._history(partner, channel="phone")
        self.assertEqual(call.state, "todo")
        self.assertIn(invoice.name, str(call.communication_id.activity_id.note))

    def test_one_email_per_customer_listing_all_invoices(self):
        partner = self._create_customer("Multi Factures", self.profile_sme)
        invoices = self._invoice(partner, 100.0, "2026-03-31") | self._invoice(
            partner, 250.0, "2026-03-31"
        )
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        mail = self._mails(partner)
        self.assertEqual(len(mail), 1)
        for invoice in invoices:
            self.assertIn(invoice.name, mail.body_html)
            # Without attached PDFs, each invoice links to the customer portal.
            self.assertIn(invoice.get_portal_url(), mail.body_html)
        self.assertFalse(mail.attachment_ids)
        self.assertEqual(len(self._history(partner, kind="reminder")), 2)
