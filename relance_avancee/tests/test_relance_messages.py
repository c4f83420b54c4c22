from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceMessages(RelanceCommon):
    """What the customer receives by email is right: its language throughout,
    signed by its collector, our bank details complete, dates and amounts from
    the data and the settings, wording that matches the history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector.partner_id.function = "Credit controller"
        cls.collector.partner_id.phone = "+33 1 40 00 00 42"
        bank = cls.env["res.bank"].create({"name": "Banque Test", "bic": "BTESFRPPXXX"})
        cls.bank_account = cls.env["res.partner.bank"].create(
            {
                "partner_id": cls.company.partner_id.id,
                "acc_number": "FR76 3000 6000 0112 3456 7890 189",
                "bank_id": bank.id,
            }
        )
        cls.customer = cls._create_customer("Durand SAS", cls.profile_sme)
        cls.invoice = cls._invoice(cls.customer, 640.0, "2026-03-31")

    def _mail_at(self, day, partner=None):
        partner = partner or self.customer
        with freeze_time(day):
            self._run(day, partner.commercial_partner_id)
        return self._mails(partner)[-1:]

    def test_first_reminder_signed_by_the_collector_with_deadline_and_bank(self):
        mail = self._mail_at("2026-04-03")
        body = mail.body_html
        self.assertIn("Colette Collector, Credit controller", body)
        self.assertIn("+33 1 40 00 00 42", body)
        self.assertNotIn("OdooBot", body)
        # D+3 reminder, 8 days to pay: by April 11.
        self.assertIn("04/11/2026", body)
        self.assertIn(
            f"IBAN {self.bank_account.acc_number}, BIC BTESFRPPXXX (Banque Test)",
            body,
        )
        self.assertIn(self.invoice.name, body)

    def test_no_empty_parentheses_without_bank_name(self):
        self.bank_account.bank_id = False
        body = self._mail_at("2026-04-03").body_html
        self.assertIn(f"IBAN {self.bank_account.acc_number},", body.replace("</t>", ""))
        self.assertNotIn("()", body)

    def test_signatory_of_the_settings_signs_for_customers_without_collector(self):
        signatory = self.env["res.users"].create(
            {
                "name": "Sophie Signataire",
                "login": "sophie_signataire",
                "email": "sophie@example.com",
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
            }
        )
        self.company.relance_signatory_id = signatory
        self.customer.with_company(self.company).relance_collector_id = False
        body = self._mail_at("2026-04-03").body_html
        self.assertIn("Sophie Signataire", body)
        self.assertIn("sophie@example.com", body)

    def test_firm_reminder_says_previous_reminders_and_the_set_indemnity(self):
        self.company.relance_indemnity_amount = 50.0
        self._mail_at("2026-04-03")
        body = self._mail_at("2026-04-12").body_html
        self.assertIn("Despite our previous reminders", body)
        self.assertIn("50.00", body)
        self.assertNotIn("40 €", body)
        self.assertIn("04/20/2026", body)  # April 12 + 8 days

    def test_firm_reminder_first_of_all_does_not_speak_of_previous_ones(self):
        # The first reminder step is switched off: the firm one comes first.
        self.profile_sme._get_sorted_levels().filtered(
            lambda lvl: lvl.delay == 3
        ).active = False
        body = self._mail_at("2026-04-12").body_html
        self.assertIn("The following invoices remain unpaid", body)
        self.assertNotIn("Despite our previous reminders", body)

    def test_ultimatum_states_deadline_and_what_follows(self):
        for day in ("2026-04-03", "2026-04-12", "2026-04-18"):
            self._mail_at(day)
        with freeze_time("2026-04-18"):
            self._history(
                self.customer, channel="phone"
            ).communication_id.action_mark_done()
        mail = self._mail_at("2026-04-30")
        self.assertIn("last notice before formal notice", mail.subject)
        self.assertIn("last amicable reminder", mail.body_html)
        self.assertIn("05/08/2026", mail.body_html)  # April 30 + 8 days
        self.assertIn("formal notice by registered letter", mail.body_html)
        self.assertIn("collection agency", mail.body_html)
        # The letter of the same step waits in the print queue.
        letter = self._history(self.customer, channel="letter")
        self.assertTrue(letter.level_id.ultimatum)
        self.assertEqual(letter.state, "todo")

    def test_french_customer_with_english_billing_contact_gets_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["relance_avancee"], ["fr_FR"])
        self.customer.lang = "fr_FR"
        billing = self.env["res.partner"].create(
            {
                "name": "Comptabilité Durand",
                "type": "invoice",
                "parent_id": self.customer.id,
                "email": "compta@durand.example.com",
                "lang": "en_US",
            }
        )
        mail = self._mail_at("2026-04-03", billing)
        self.assertEqual(mail.recipient_ids, billing)
        self.assertIn("Bonjour", mail.body_html)
        self.assertNotIn("Dear", mail.body_html)
        self.assertIn("factures impayées", mail.subject)
        self.assertIn("Colette Collector", mail.body_html)
        self.assertNotIn("Kind regards", mail.body_html)

    def test_task_reads_in_its_responsible_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["relance_avancee"], ["fr_FR"])
        self.collector.lang = "fr_FR"
        for day in ("2026-04-03", "2026-04-12", "2026-04-18"):
            self._mail_at(day)
        activity = self._history(
            self.customer, channel="phone"
        ).communication_id.activity_id
        self.assertEqual(activity.user_id, self.collector)
        self.assertEqual(activity.summary, "Appel téléphonique : Durand SAS")
        self.assertIn("Factures", str(activity.note))
        self.assertNotIn("Invoices", str(activity.note))
