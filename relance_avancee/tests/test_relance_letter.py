import io
import re
import shutil
import subprocess

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

TODAY = "2026-03-20"


@tagged("post_install", "-at_install")
class TestRelanceLetter(AccountTestInvoicingCommon):
    """The dunning letters and formal notices, rendered to PDF for real by
    wkhtmltopdf and read back as text."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # wkhtmltopdf fetches the report stylesheets over HTTP from report.url,
        # which defaults to this very server: during `odoo-bin --test-enable`
        # the server thread waits for the registry lock the tests hold, and
        # the rendering would hang. Point it at a closed port: the PDF is
        # unstyled (the letter's layout is inline), its text is the same.
        cls.env["ir.config_parameter"].sudo().set_param(
            "report.url", "http://127.0.0.1:9"
        )
        cls.company = cls.env.company
        cls.company.write(
            {
                "name": "Créances Exemple SARL",
                "street": "8 avenue de la République",
                "zip": "75011",
                "city": "Paris",
                "country_id": cls.env.ref("base.fr").id,
                "phone": "+33 1 40 00 00 00",
                "email": "compta@creances-exemple.fr",
                "vat": "FR12345678901",
                "company_registry": "123 456 789 00012",
            }
        )
        bank = cls.env["res.bank"].create(
            {"name": "Banque Exemple", "bic": "BEXAFRPPXXX"}
        )
        cls.env["res.partner.bank"].create(
            {
                "partner_id": cls.company.partner_id.id,
                "acc_number": "FR7630006000011234567890189",
                "bank_id": bank.id,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Boulangerie Dupont SAS",
                "is_company": True,
                "street": "12 rue des Lilas",
                "zip": "69003",
                "city": "Lyon",
                "country_id": cls.env.ref("base.fr").id,
                "lang": "en_US",
                "property_payment_term_id": cls.env.ref(
                    "account.account_payment_term_30days"
                ).id,
            }
        )
        # The billing contact receives the letter, at its own address.
        cls.billing_contact = cls.env["res.partner"].create(
            {
                "name": "Service comptabilité",
                "type": "invoice",
                "parent_id": cls.customer.id,
                "street": "3 place Bellecour",
                "zip": "69002",
                "city": "Lyon",
                "country_id": cls.env.ref("base.fr").id,
                "lang": "en_US",
            }
        )
        # Due 2026-02-14 (34 days overdue on TODAY) and 2026-03-12 (8 days).
        cls.invoice_1 = cls.init_invoice(
            "out_invoice",
            partner=cls.customer,
            invoice_date="2026-01-15",
            amounts=[1000.0],
            taxes=[],
            post=True,
        )
        cls.invoice_2 = cls.init_invoice(
            "out_invoice",
            partner=cls.customer,
            invoice_date="2026-02-10",
            amounts=[250.0],
            taxes=[],
            post=True,
        )
        # A partial payment: 150.00 is left to pay on the second invoice.
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=cls.invoice_2.ids
        ).create({"payment_date": "2026-03-01", "amount": 100.0})._create_payments()
        cls.profile = cls.company.relance_default_profile_id
        cls.letter_level = cls.profile._get_sorted_levels().filtered(
            lambda level: level.channel == "letter" and level.apply_indemnity
        )[:1]
        cls.collector = cls.env["res.users"].create(
            {
                "name": "Colette Collector",
                "login": "colette_letter",
                "email": "colette@creances-exemple.fr",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
            }
        )
        cls.collector.partner_id.function = "Credit controller"
        # The customer's collector signs its letters.
        cls.customer.with_company(cls.company).relance_collector_id = cls.collector

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _render_text(self, report_ref, records):
        """Render ``report_ref`` to PDF with wkhtmltopdf and return its text,
        whitespace collapsed."""
        Report = self.env["ir.actions.report"]
        if Report.get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not available")
        pdf, report_type = Report.with_context(
            force_report_rendering=True
        )._render_qweb_pdf(report_ref, records.ids)
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        if shutil.which("pdftotext"):
            text = subprocess.run(
                ["pdftotext", "-enc", "UTF-8", "-", "-"],
                input=pdf,
                capture_output=True,
                check=True,
            ).stdout.decode()
        else:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            text = "\n".join(page.extractText() for page in reader.pages)
        return re.sub(r"\s+", " ", text.replace("\xa0", " "))

    def _assert_letter_basics(self, text):
        self.assertIn("Créances Exemple SARL", text)
        self.assertIn("8 avenue de la République", text)
        self.assertIn("+33 1 40 00 00 00", text)
        self.assertIn("compta@creances-exemple.fr", text)
        self.assertIn("FR12345678901", text)
        self.assertIn("SIRET: 123 456 789 00012", text)
        # The window-envelope address block: customer, billing contact, address.
        self.assertIn("Boulangerie Dupont SAS", text)
        self.assertIn("Service comptabilité", text)
        self.assertIn("3 place Bellecour", text)
        self.assertIn("69002 Lyon", text)
        # The unpaid invoices with their amounts and residuals.
        self.assertIn(self.invoice_1.name, text)
        self.assertIn(self.invoice_2.name, text)
        self.assertIn("1,000.00", text)
        self.assertIn("250.00", text)
        self.assertIn("150.00", text)
        self.assertIn("1,150.00", text)  # total due
        # How to pay.
        self.assertIn("FR7630006000011234567890189", text)
        self.assertIn("Banque Exemple", text)

    def _create_communication(self, level, channel="letter", moves=None):
        """A communication of the print queue listing both invoices (or
        ``moves``), with its history rows, as the batch would have made it on
        TODAY."""
        rows = self.env["relance.history"].create(
            [
                {
                    "company_id": self.company.id,
                    "partner_id": self.customer.id,
                    "move_id": move.id,
                    "level_id": level.id,
                    "profile_id": self.profile.id,
                    "kind": "reminder",
                    "channel": channel,
                    "state": "todo",
                    "date": TODAY,
                    "due_date": move.invoice_date_due,
                    "days_overdue": (
                        fields.Date.to_date(TODAY) - move.invoice_date_due
                    ).days,
                    "amount_residual": move.amount_residual,
                    "currency_id": move.currency_id.id,
                    "amount_company": move.amount_residual,
                }
                for move in (moves or self.invoice_1 + self.invoice_2)
            ]
        )
        return self.env["relance.communication"].create(
            {
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "recipient_id": self.billing_contact.id,
                "level_id": level.id,
                "profile_id": self.profile.id,
                "kind": "reminder",
                "channel": channel,
                "tone": level.tone,
                "date": TODAY,
                "user_id": self.collector.id,
                "history_ids": [Command.set(rows.ids)],
            }
        )

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------

    def _assert_interest(self, text):
        """Late interest at 2.15 % (ECB, 1 January 2026) + 10 = 12.15 % a year,
        2026 has 365 days, from the day after each due date to March 20:
        invoice 1: 1,000.00 × 12.15 % × 34/365 (Feb 15 – Mar 20) = 11.3178 → 11.32;
        invoice 2: 150.00 (paid 100.00 on Mar 1, before its due date) × 12.15 %
        × 8/365 (Mar 13 – Mar 20) = 0.3995 → 0.40; together 11.72."""
        self.assertIn("L441-10", text)
        self.assertIn("12.15 %", text)
        self.assertRegex(text, r"\$ 1,000\.00 \$ 1,000\.00 \$ 11\.32")
        self.assertRegex(text, r"\$ 250\.00 \$ 150\.00 \$ 0\.40")
        self.assertIn("11.72", text)

    @freeze_time(TODAY)
    def test_partner_letter_lists_overdue_invoices(self):
        text = self._render_text(
            "relance_avancee.action_report_relance_letter", self.customer
        )
        self._assert_letter_basics(text)
        self.assertIn("Payment reminder", text)
        # Invoice 1: dated 01/15/2026, due 02/14/2026, 34 days overdue.
        self.assertIn("01/15/2026 02/14/2026 34", text)
        # Invoice 2: dated 02/10/2026, due 03/12/2026, 8 days overdue.
        self.assertIn("02/10/2026 03/12/2026 8", text)
        self.assertIn("Paris, March 20, 2026", text)
        self.assertIn("payment terms: 30 Days", text)
        self.assertIn("within 8 days, at the latest by March 28, 2026", text)
        self.assertNotIn("registered letter", text)

    @freeze_time(TODAY)
    def test_french_customer_gets_a_french_formal_notice(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["relance_avancee"], ["fr_FR"])
        self.customer.lang = "fr_FR"
        text = self._render_text(
            "relance_avancee.action_report_formal_notice", self.customer
        )
        self.assertIn("Mise en demeure de payer", text)
        self.assertIn("LETTRE RECOMMANDÉE AVEC ACCUSÉ DE RÉCEPTION", text.upper())
        # 12.15 % written the French way, the amounts too.
        self.assertIn("au taux de 12,15 % l'an, du lendemain de chaque échéance", text)
        self.assertIn("1 241,72", text)
        self.assertIn("20 mars 2026", text)
        self.assertNotIn("Dear", text)

    @freeze_time(TODAY)
    def test_letters_of_several_customers_print_as_one_pdf(self):
        # Debian's wkhtmltopdf takes one input document: the letters of a
        # selection of customers go as one, each on its own pages.
        other = self.env["res.partner"].create(
            {
                "name": "Épicerie Martin SARL",
                "is_company": True,
                "street": "5 rue Mercière",
                "zip": "69002",
                "city": "Lyon",
                "country_id": self.env.ref("base.fr").id,
                "lang": "en_US",
                "property_payment_term_id": self.customer.property_payment_term_id.id,
            }
        )
        self.init_invoice(
            "out_invoice",
            partner=other,
            invoice_date="2026-01-20",
            amounts=[300.0],
            taxes=[],
            post=True,
        )
        text = self._render_text(
            "relance_avancee.action_report_relance_letter", self.customer | other
        )
        self.assertIn("Boulangerie Dupont SAS", text)
        self.assertIn("Épicerie Martin SARL", text)
        self.assertEqual(text.count("Subject:"), 2)

    @freeze_time(TODAY)
    def test_partner_formal_notice_claims_indemnity(self):
        text = self._render_text(
            "relance_avancee.action_report_formal_notice", self.customer
        )
        self._assert_letter_basics(text)
        self.assertIn("Formal notice to pay", text)
        self.assertIn(
            "SENT BY REGISTERED LETTER WITH ACKNOWLEDGEMENT OF RECEIPT", text.upper()
        )
        self.assertIn("D441-5", text)
        self.assertIn("L441-10", text)
        self.assertIn("1344-1", text)
        self.assertIn("2 late invoice(s)", text)
        self.assertIn("80.00", text)  # 2 × 40.00
        self._assert_interest(text)
        self.assertIn("1,241.72", text)  # 1,000.00 + 150.00 + 80.00 + 11.72
        self.assertIn("within 15 days, at the latest by April 4, 2026", text)

    @freeze_time(TODAY)
    def test_communication_letter_with_indemnity(self):
        self.assertTrue(
            self.letter_level, "the default profile has a letter step with indemnity"
        )
        comm = self._create_communication(self.letter_level)
        text = self._render_text(
            "relance_avancee.action_report_relance_communication_letter", comm
        )
        self._assert_letter_basics(text)
        # The shipped letter step is the last amicable one (ultimatum).
        self.assertIn("Last reminder before formal notice", text)
        self.assertIn("This letter is our last amicable reminder", text)
        self.assertIn("collection agency", text)
        # No reminder sent before: no "despite our previous reminders".
        self.assertIn("The following invoices remain unpaid", text)
        self.assertNotIn("Despite our previous reminders", text)
        # Signed by the customer's collector, with their job position.
        self.assertIn("Colette Collector", text)
        self.assertIn("Credit controller", text)
        self.assertIn("D441-5", text)
        self.assertIn("80.00", text)
        self._assert_interest(text)
        self.assertIn("1,241.72", text)
        self.assertIn("at the latest by March 28, 2026", text)
        self.assertIn("BIC BEXAFRPPXXX (Banque Exemple)", text)
        self.assertNotIn("1344-1", text)

    @freeze_time(TODAY)
    def test_ultimatum_letter_of_three_invoices_says_everything(self):
        """Every mention of a reminder letter and of the ultimatum, with the
        figures of a known case: three invoices, one partly paid, the rate of
        the first half of 2026 (ECB 2.15 % + 10 = 12.15 %, 365 days)."""
        invoice_3 = self.init_invoice(
            "out_invoice",
            partner=self.customer,
            invoice_date="2026-01-05",
            amounts=[600.0],
            taxes=[],
            post=True,
        )
        moves = self.invoice_1 + self.invoice_2 + invoice_3
        comm = self._create_communication(self.letter_level, moves=moves)
        text = self._render_text(
            "relance_avancee.action_report_relance_communication_letter", comm
        )
        expected = [
            # Our company: name, address, registration numbers, contact.
            "Créances Exemple SARL 8 avenue de la République 75011 Paris",
            "VAT: FR12345678901",
            "SIRET: 123 456 789 00012",
            "Your contact: Colette Collector",
            # The billing address in the window, place and date, subject.
            "Boulangerie Dupont SAS Service comptabilité 3 place Bellecour 69002 Lyon",
            "Paris, March 20, 2026",
            "Subject: Last reminder before formal notice",
            # The unpaid invoices: number, date, due date, days late, amount,
            # residual, interest (1,000.00 × 12.15 % × 34/365 = 11.32;
            # 150.00 × 12.15 % × 8/365 = 0.40; 600.00 × 12.15 % × 44/365
            # = 8.79).
            f"{self.invoice_1.name} 01/15/2026 02/14/2026 34 $ 1,000.00 "
            "$ 1,000.00 $ 11.32",
            f"{self.invoice_2.name} 02/10/2026 03/12/2026 8 $ 250.00 $ 150.00 $ 0.40",
            f"{invoice_3.name} 01/05/2026 02/04/2026 44 $ 600.00 $ 600.00 $ 8.79",
            "$ 1,850.00 $ 1,750.00 Total",
            # Indemnity 3 × 40.00, interest 20.51, claimed 1,890.51.
            "3 late invoice(s) × $ 40.00 $ 120.00",
            "at 12.15 % a year, from the day after each due date to "
            "March 20, 2026 $ 20.51",
            "Total claimed $ 1,890.51",
            # Our terms and the consequences of late payment.
            "payment terms: 30 Days",
            "L441-10",
            # The deadline, and what follows it (the ultimatum).
            "pay the sum of $ 1,890.51 within 8 days, at the latest by March 28, 2026",
            "This letter is our last amicable reminder",
            "formal notice by registered letter",
            "collection agency or take legal action",
            # Payment reference and bank details.
            "IBAN FR7630006000011234567890189, BIC BEXAFRPPXXX (Banque Exemple)",
            f"{invoice_3.name}, {self.invoice_1.name}, {self.invoice_2.name}",
            # Closing and signature.
            "Yours faithfully",
            "Colette Collector Credit controller Créances Exemple SARL",
        ]
        for mention in expected:
            self.assertIn(mention, text)

    @freeze_time(TODAY)
    def test_letter_after_a_reminder_speaks_of_previous_reminders(self):
        first = self.profile._get_sorted_levels().filtered(
            lambda lvl: lvl.channel == "email" and lvl.delay > 0
        )[:1]
        self.env["relance.history"].create(
            {
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "move_id": self.invoice_1.id,
                "level_id": first.id,
                "kind": "reminder",
                "channel": "email",
                "state": "sent",
                "date": "2026-02-17",
            }
        )
        comm = self._create_communication(self.letter_level)
        text = self._render_text(
            "relance_avancee.action_report_relance_communication_letter", comm
        )
        self.assertIn("Despite our previous reminders", text)

    @freeze_time(TODAY)
    def test_company_settings_set_the_deadline_and_the_indemnity(self):
        self.company.write(
            {"relance_payment_days": 10, "relance_indemnity_amount": 50.0}
        )
        comm = self._create_communication(self.letter_level)
        text = self._render_text(
            "relance_avancee.action_report_relance_communication_letter", comm
        )
        self.assertIn("within 10 days, at the latest by March 30, 2026", text)
        self.assertIn("100.00", text)  # 2 × 50.00
        self.assertIn("1,261.72", text)  # 1,000.00 + 150.00 + 100.00 + 11.72

    @freeze_time(TODAY)
    def test_communication_formal_notice(self):
        level = self.profile._get_sorted_levels().filtered(
            lambda lvl: lvl.channel == "formal_notice"
        )[:1]
        comm = self._create_communication(level, channel="formal_notice")
        text = self._render_text(
            "relance_avancee.action_report_relance_communication_formal_notice", comm
        )
        self.assertIn("Formal notice to pay", text)
        self.assertIn("1344-1", text)
        self.assertIn(self.invoice_1.name, text)
        self.assertIn("at the latest by April 4, 2026", text)
        self.assertNotIn("Registered letter no.", text)
        # The registered letter's number: on the letter, the history and the
        # customer's chatter.
        comm.registered_number = "1A 123 456 7890 1"
        text = self._render_text(
            "relance_avancee.action_report_relance_communication_formal_notice", comm
        )
        self.assertIn("Registered letter no. 1A 123 456 7890 1", text)
        self.assertEqual(
            set(comm.history_ids.mapped("registered_number")), {"1A 123 456 7890 1"}
        )
        self.assertIn(
            "registered letter no. 1A 123 456 7890 1",
            str(self.customer.message_ids[:1].body),
        )

    @freeze_time(TODAY)
    def test_letter_of_customer_without_overdue_invoice_is_refused(self):
        customer = self.env["res.partner"].create(
            {
                "name": "Bon Payeur SA",
                "is_company": True,
                "city": "Nantes",
                "property_payment_term_id": self.customer.property_payment_term_id.id,
            }
        )
        # Due in 30 days: nothing to remind yet.
        self.init_invoice(
            "out_invoice",
            partner=customer,
            invoice_date=TODAY,
            amounts=[500.0],
            taxes=[],
            post=True,
        )
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        for report_ref in (
            "relance_avancee.action_report_relance_letter",
            "relance_avancee.action_report_formal_notice",
        ):
            with self.assertRaisesRegex(UserError, "No overdue invoice"):
                Report._render_qweb_pdf(report_ref, customer.ids)

    @freeze_time(TODAY)
    def test_letter_of_customer_with_covering_credit_is_refused(self):
        customer = self.env["res.partner"].create(
            {
                "name": "Crédit SARL",
                "is_company": True,
                "property_payment_term_id": self.customer.property_payment_term_id.id,
            }
        )
        self.init_invoice(
            "out_invoice",
            partner=customer,
            invoice_date="2026-01-10",
            amounts=[300.0],
            taxes=[],
            post=True,
        )
        self.init_payment(300.0, post=True, date="2026-03-01", partner=customer)
        with self.assertRaisesRegex(UserError, "reconcile them"):
            self.env["ir.actions.report"].with_context(
                force_report_rendering=True
            )._render_qweb_pdf(
                "relance_avancee.action_report_relance_letter", customer.ids
            )

    @freeze_time(TODAY)
    def test_email_communication_is_not_printed(self):
        level = self.profile._get_sorted_levels().filtered(
            lambda lvl: lvl.channel == "email" and lvl.delay > 0
        )[:1]
        comm = self._create_communication(level, channel="email")
        with self.assertRaisesRegex(UserError, "Only letters and formal notices"):
            self.env["ir.actions.report"].with_context(
                force_report_rendering=True
            )._render_qweb_pdf(
                "relance_avancee.action_report_relance_communication_letter", comm.ids
            )
