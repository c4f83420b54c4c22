import re
import subprocess
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import RelanceCommon

TODAY = "2026-06-30"
STATEMENT = "relance_avancee.action_report_relance_statement"


def pdf_to_text(pdf, layout=False):
    """The text of a PDF (pdftotext), whitespace collapsed; ``layout``: the
    cells of a table row stay together."""
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()
    text = text.replace("\xa0", " ").replace("\u200b", "")
    return re.sub(r"\s+", " ", text)


class RelancePdfCommon(RelanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # wkhtmltopdf fetches the stylesheets from report.url: a closed port,
        # so it never waits for this test server (the layout is inline).
        cls.env["ir.config_parameter"].sudo().set_param(
            "report.url", "http://127.0.0.1:9"
        )

    def _render(self, report_ref, records, user=None):
        Report = self.env["ir.actions.report"]
        if Report.get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not available")
        if user:
            Report = Report.with_user(user)
        pdf, report_type = Report.with_context(
            force_report_rendering=True
        )._render_qweb_pdf(report_ref, records.ids)
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        return pdf


@tagged("post_install", "-at_install")
class TestRelanceStatement(RelancePdfCommon):
    """The customer statement, rendered for real and read back as text."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._create_customer(
            "Statement Customer", cls.profile_sme, ref="CUST-042"
        )
        # On TODAY: not due, 60 days late (partly paid), 121 days late.
        cls.invoice_not_due = cls._invoice(
            cls.customer, 1000.0, "2026-07-15", invoice_date="2026-06-15"
        )
        cls.invoice_60 = cls._invoice(
            cls.customer, 500.0, "2026-05-01", invoice_date="2026-04-01"
        )
        cls._pay(cls.invoice_60, "2026-05-10", amount=200.0)
        cls.invoice_121 = cls._invoice(
            cls.customer, 400.0, "2026-03-01", invoice_date="2026-02-01"
        )
        # A credit note (20 days old) and a payment not allocated (76 days).
        cls.credit_note = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": cls.customer.id,
                "invoice_date": "2026-06-10",
                "invoice_date_due": "2026-06-10",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Refund", "price_unit": 150.0, "tax_ids": []}
                    )
                ],
            }
        )
        cls.credit_note.action_post()
        cls.payment = cls._unreconciled_payment(cls.customer, 250.0, "2026-04-15")

    @freeze_time(TODAY)
    def test_statement_lists_every_open_item_with_totals_and_ageing(self):
        text = pdf_to_text(self._render(STATEMENT, self.customer), layout=True)
        self.assertIn("Statement of account", text)
        self.assertIn("Statement Customer", text)
        self.assertIn("1 rue de la Paix", text)
        self.assertIn("CUST-042", text)
        self.assertIn("June 30, 2026", text)
        self.assertIn(self.company.name, text)
        for move in (
            self.invoice_not_due,
            self.invoice_60,
            self.invoice_121,
            self.credit_note,
            self.payment.move_id,
        ):
            self.assertIn(move.name, text)
        # Each item: date, due date, days late, amount, amount due.
        self.assertRegex(text, r"06/15/2026 07/15/2026 0 \$ 1,000.00 \$ 1,000.00")
        self.assertRegex(text, r"04/01/2026 05/01/2026 60 \$ 500.00 \$ 300.00")
        self.assertRegex(text, r"02/01/2026 03/01/2026 121 \$ 400.00 \$ 400.00")
        self.assertRegex(text, r"06/10/2026 06/10/2026 \$ -150.00 \$ -150.00")
        self.assertRegex(text, r"04/15/2026 04/15/2026 \$ -250.00 \$ -250.00")
        # 1,000 + 300 + 400 - 150 - 250.
        self.assertIn("Balance due $ 1,300.00", text)
        # Not due, 1-30 (the credit note), 31-60, 61-90 (the payment), > 90.
        self.assertIn(
            "Over 90 days Total $ 1,000.00 $ -150.00 $ 300.00 $ -250.00 "
            "$ 400.00 $ 1,300.00",
            text,
        )

    @freeze_time(TODAY)
    def test_batch_prints_one_statement_per_customer_on_its_own_pages(self):
        others = self.customer
        for name in ("Second Customer", "Third Customer"):
            partner = self._create_customer(name, self.profile_sme)
            self._invoice(partner, 80.0, "2026-06-01")
            others |= partner
        pdf = self._render(STATEMENT, others)
        pages = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.count(b"\f")
        self.assertGreaterEqual(pages, 3)
        text = pdf_to_text(pdf)
        for partner in others:
            self.assertIn(partner.name, text)
        self.assertEqual(text.count("Statement of account"), 3)

    @freeze_time(TODAY)
    def test_customer_without_open_item_is_refused(self):
        settled = self._create_customer("Settled Customer", self.profile_sme)
        with self.assertRaisesRegex(UserError, "Settled Customer"):
            self.env["ir.actions.report"]._render_qweb_html(
                STATEMENT, (self.customer | settled).ids
            )

    @freeze_time(TODAY)
    def test_salesperson_prints_own_customers_only(self):
        salesperson = new_test_user(
            self.env, login="stmt_sales", groups="base.group_user"
        )
        other = new_test_user(self.env, login="stmt_other", groups="base.group_user")
        self.customer.user_id = other
        with self.assertRaises(AccessError):
            self._render(STATEMENT, self.customer, user=salesperson)
        self.customer.user_id = salesperson
        text = pdf_to_text(self._render(STATEMENT, self.customer, user=salesperson))
        self.assertIn("Balance due $ 1,300.00", text)

    def test_email_step_attaches_the_statement(self):
        self.profile_sme.level_ids.filtered(lambda lvl: lvl.channel == "email").write(
            {"attach_statement": True}
        )
        partners = self._create_customers(2, "Attached", invoices=2)
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not available")
        with freeze_time("2026-04-03"):
            self.engine.with_context(force_report_rendering=True)._run(
                self.company, fields.Date.to_date("2026-04-03"), partners.ids
            )
        for partner in partners:
            self._assert_statement_attached(partner)

    def _assert_statement_attached(self, partner):
        mail = self._mails(partner)
        self.assertEqual(len(mail), 1)
        statement = mail.attachment_ids.filtered(
            lambda a: a.name == f"Statement - {partner.name}.pdf"
        )
        self.assertEqual(len(statement), 1)
        self.assertEqual(statement.mimetype, "application/pdf")
        self.assertTrue(statement.raw.startswith(b"%PDF"))
        text = pdf_to_text(statement.raw)
        self.assertIn("Statement of account", text)
        self.assertIn(partner.name, text)
        self.assertIn("Balance due $ 201.00", text)  # 100.00 + 101.00
        rows = self._history(partner, kind="reminder")
        self.assertEqual(set(rows.mapped("state")), {"sent"})
        self.assertFalse(any(rows.mapped("reason")))

    def test_statement_that_cannot_be_rendered_is_said_on_the_history(self):
        self.profile_sme.level_ids.filtered(lambda lvl: lvl.channel == "email").write(
            {"attach_statement": True}
        )
        partner = self._create_customers(1, "Unrendered")
        Report = type(self.env["ir.actions.report"])

        def broken(*args, **kwargs):
            raise OSError("wkhtmltopdf is broken")

        with (
            freeze_time("2026-04-03"),
            patch.object(Report, "_render_qweb_pdf", broken),
        ):
            self._run("2026-04-03", partner)
        mail = self._mails(partner)
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.attachment_ids)
        row = self._history(partner, kind="reminder")
        self.assertEqual(row.state, "sent")
        self.assertIn("without the customer statement", row.reason)
