import io
import logging
import re
import subprocess
import time
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.base.models.ir_actions_report import IrActionsReport

from .common import RelanceCommon

_logger = logging.getLogger(__name__)

TODAY = "2026-04-30"
DUE = "2026-03-31"


def _page_count(pdf):
    return len(PdfFileReader(io.BytesIO(pdf), strict=False).pages)


@tagged("post_install", "-at_install")
class TestRelancePrint(RelanceCommon):
    """The print wizard: the day's letters in one PDF rendered in chunks,
    recorded as sent only once the user confirms they were posted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # wkhtmltopdf fetches the stylesheets from report.url: a closed port
        # (see test_relance_letter), the letter's text is the same.
        cls.env["ir.config_parameter"].sudo().set_param(
            "report.url", "http://127.0.0.1:9"
        )
        cls._create_company_bank_account()
        cls.letter_level = cls.profile_sme._get_sorted_levels().filtered(
            lambda level: level.channel == "letter"
        )[:1]
        cls.notice_level = cls.profile_sme._get_sorted_levels().filtered(
            lambda level: level.channel == "formal_notice"
        )[:1]
        cls.accountant = new_test_user(
            cls.env,
            login="print_accountant",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        cls.salesperson = new_test_user(
            cls.env,
            login="print_salesperson",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @classmethod
    def _customers_with_address(cls, count, prefix, invoices=1):
        partners = cls._create_customers(count, prefix, invoices=invoices, due=DUE)
        partners.write(
            {
                "street": "1 rue de la Paix",
                "zip": "75002",
                "city": "Paris",
                "country_id": cls.env.ref("base.fr").id,
            }
        )
        return partners

    @classmethod
    def _letters(cls, partners, level=None, day=TODAY):
        """One letter of the print queue per customer, listing its open
        invoices, as the dunning batch makes them on ``day``."""
        level = level or cls.letter_level
        moves = cls.env["account.move"].search(
            [
                ("partner_id", "in", partners.ids),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
            ]
        )
        day = fields.Date.to_date(day)
        rows = cls.env["relance.history"].create(
            [
                {
                    "company_id": cls.company.id,
                    "partner_id": move.partner_id.id,
                    "move_id": move.id,
                    "level_id": level.id,
                    "profile_id": level.profile_id.id,
                    "kind": "reminder",
                    "channel": level.channel,
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
        rows_by_partner = rows.grouped("partner_id")
        return cls.env["relance.communication"].create(
            [
                {
                    "company_id": cls.company.id,
                    "partner_id": partner.id,
                    "level_id": level.id,
                    "profile_id": level.profile_id.id,
                    "kind": "reminder",
                    "channel": level.channel,
                    "tone": level.tone,
                    "date": day,
                    "user_id": cls.collector.id,
                    "history_ids": [Command.set(rows_by_partner[partner].ids)],
                }
                for partner in partners
            ]
        )

    def _wizard(self, letters=None, user=None):
        """The print wizard as opened from "Letters to print" (by the billing
        user by default), on ``letters`` or on the day's queue."""
        Communication = self.env["relance.communication"].with_user(
            user or self.accountant
        )
        action = Communication.browse(
            letters.ids if letters else []
        ).action_open_print_wizard()
        self.assertEqual(action["res_model"], "relance.print.wizard")
        return (
            self.env["relance.print.wizard"]
            .with_user(user or self.accountant)
            .with_context(**action["context"])
            .create({})
        )

    def _pdf_text(self, pdf):
        return subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-", "-"],
            input=pdf,
            capture_output=True,
            check=True,
        ).stdout.decode()

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------

    @freeze_time(TODAY)
    def test_300_letters_render_into_one_pdf_in_chunks(self):
        Report = self.env["ir.actions.report"]
        if Report.get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not available")
        partners = self._customers_with_address(300, "Batch")
        letters = self._letters(partners)
        # The known page count of one letter, rendered one by one for a sample.
        sample_pages = [
            _page_count(
                Report.with_context(force_report_rendering=True)._render_qweb_pdf(
                    self.letter_level.report_id, letter.ids
                )[0]
            )
            for letter in letters[:3]
        ]
        self.assertEqual(len(set(sample_pages)), 1, sample_pages)
        pages_per_letter = sample_pages[0]

        original = IrActionsReport._run_wkhtmltopdf
        calls = []

        def counting_run(report, bodies, *args, **kwargs):
            calls.append((len(bodies), bodies[0].count("o_relance_letter")))
            return original(report, bodies, *args, **kwargs)

        wizard = self._wizard().with_context(force_report_rendering=True)
        self.assertEqual(wizard.communication_ids, letters)
        started = time.monotonic()
        with patch.object(IrActionsReport, "_run_wkhtmltopdf", counting_run):
            wizard.action_print()
        elapsed = time.monotonic() - started
        _logger.info("300 letters printed into one PDF in %.1f s", elapsed)

        # 300 letters, 50 per wkhtmltopdf call in one HTML document, merged
        # into one real PDF.
        self.assertEqual(calls, [(1, 50)] * 6)
        batch = wizard.batch_id
        pdf = batch.attachment_id.raw
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertEqual(batch.attachment_id.mimetype, "application/pdf")
        self.assertEqual(batch.letter_count, 300)
        self.assertEqual(_page_count(pdf), 300 * pages_per_letter)
        self.assertEqual(batch.page_count, 300 * pages_per_letter)
        self.assertEqual(wizard.page_count, 300 * pages_per_letter)
        # Every customer's letter is in it.
        names = set(re.findall(r"Batch (\d+)", self._pdf_text(pdf)))
        self.assertEqual(names, {str(index) for index in range(300)})
        # Nothing sent before the confirmation, everything after it.
        self.assertEqual(set(letters.mapped("state")), {"todo"})
        wizard.action_confirm()
        self.assertEqual(set(letters.mapped("state")), {"sent"})

    @freeze_time(TODAY)
    def test_letters_of_several_pages_and_formal_notices_keep_their_pages(self):
        """Letters put in one document per chunk each start on a new page and
        keep their own page count, whatever their length and report."""
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        if Report.get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not available")
        long = self._customers_with_address(1, "Long", invoices=70)
        short = self._customers_with_address(2, "Short")
        letters = self._letters(long | short[0])
        notice = self._letters(short[1], level=self.notice_level)
        one_by_one = [
            _page_count(Report._render_qweb_pdf(comm.level_id.report_id, comm.ids)[0])
            for comm in letters | notice
        ]
        self.assertGreater(max(one_by_one), 1, one_by_one)
        wizard = self._wizard(letters | notice).with_context(
            force_report_rendering=True
        )
        wizard.action_print()
        pdf = wizard.batch_id.attachment_id.raw
        self.assertEqual(_page_count(pdf), sum(one_by_one))
        self.assertEqual(wizard.batch_id.page_count, sum(one_by_one))
        # Letters first, the formal notice last.
        text = self._pdf_text(pdf)
        self.assertLess(text.rindex("Short 0"), text.index("Short 1"))

    @freeze_time(TODAY)
    def test_customer_without_postal_address_is_refused(self):
        partners = self._customers_with_address(3, "Addr")
        partners[1].write({"street": "  ", "city": False})
        letters = self._letters(partners)
        wizard = self._wizard(letters)
        with self.assertRaises(UserError) as error:
            wizard.action_print()
        message = str(error.exception)
        self.assertIn("Addr 1", message)
        self.assertIn("street, city", message)
        self.assertNotIn("Addr 0", message)
        self.assertFalse(wizard.batch_id)
        self.assertEqual(set(letters.mapped("state")), {"todo"})

    @freeze_time(TODAY)
    def test_letters_cancelled_or_in_error_are_refused(self):
        letters = self._letters(self._customers_with_address(2, "Err"))
        letters[0]._set_state("error", reason="Returned by the post")
        with self.assertRaises(UserError) as error:
            self._wizard(letters).action_print()
        self.assertIn("Err 0", str(error.exception))

    @freeze_time(TODAY)
    def test_letters_marked_sent_only_after_confirmation(self):
        partners = self._customers_with_address(3, "Conf")
        letters = self._letters(partners[:2])
        notice = self._letters(partners[2:], level=self.notice_level)
        wizard = self._wizard()
        self.assertEqual(wizard.communication_ids, letters | notice)
        self.assertEqual(wizard.todo_count, 3)
        wizard.action_print()
        batch = wizard.batch_id
        self.assertEqual(wizard.state, "printed")
        self.assertEqual(batch.state, "printed")
        self.assertEqual(batch.letter_count, 3)
        self.assertEqual(batch.user_id, self.accountant)
        self.assertTrue(batch.attachment_id.raw)
        # Printed, not yet posted: still to do.
        self.assertEqual(set((letters | notice).mapped("state")), {"todo"})
        self.assertFalse((letters | notice).print_attachment_id)
        action = wizard.action_confirm()
        self.assertEqual(action, {"type": "ir.actions.client", "tag": "soft_reload"})
        self.assertEqual(set((letters | notice).mapped("state")), {"sent"})
        self.assertEqual((letters | notice).print_attachment_id, batch.attachment_id)
        self.assertEqual(batch.state, "confirmed")
        self.assertEqual(set((letters | notice).history_ids.mapped("state")), {"sent"})
        # The day's queue is empty now.
        with self.assertRaises(UserError):
            self.env["relance.communication"].with_user(
                self.accountant
            ).action_open_print_wizard()

    @freeze_time(TODAY)
    def test_cancel_leaves_letters_to_do(self):
        letters = self._letters(self._customers_with_address(2, "Cancel"))
        wizard = self._wizard(letters)
        wizard.action_print()
        wizard.action_cancel()
        self.assertEqual(wizard.batch_id.state, "cancelled")
        self.assertEqual(set(letters.mapped("state")), {"todo"})
        # Printed again later, and confirmed.
        wizard = self._wizard(letters)
        wizard.action_print()
        wizard.action_confirm()
        self.assertEqual(set(letters.mapped("state")), {"sent"})

    @freeze_time(TODAY)
    def test_queue_is_the_companys_letters_up_to_today(self):
        partners = self._customers_with_address(3, "Queue")
        today = self._letters(partners[:1])
        earlier = self._letters(partners[1:2], day="2026-04-20")
        self._letters(partners[2:], day="2026-05-02")
        wizard = self._wizard()
        self.assertEqual(wizard.communication_ids, today | earlier)

    @freeze_time(TODAY)
    def test_letter_paid_since_the_batch_is_cancelled_and_left_out(self):
        partners = self._customers_with_address(2, "Paid")
        letters = self._letters(partners)
        paid = letters.filtered(lambda c: c.partner_id == partners[0])
        self._pay(paid.history_ids.move_id, TODAY)
        wizard = self._wizard(letters)
        wizard.action_print()
        self.assertEqual(paid.state, "cancelled")
        self.assertEqual(wizard.batch_id.communication_ids, letters - paid)

    @freeze_time(TODAY)
    def test_reprint_keeps_the_state(self):
        letters = self._letters(self._customers_with_address(1, "Again"))
        wizard = self._wizard(letters)
        wizard.action_print()
        wizard.action_confirm()
        first_document = letters.print_attachment_id
        sent_date = letters.sent_date
        self.assertEqual(letters.state, "sent")
        with freeze_time("2026-05-06"):
            reprint = self._wizard(letters)
            self.assertEqual(reprint.reprint_count, 1)
            self.assertEqual(reprint.todo_count, 0)
            reprint.action_print()
            self.assertEqual(reprint.batch_todo_count, 0)
            self.assertTrue(reprint.batch_id.attachment_id.raw)
            reprint.action_confirm()
        self.assertEqual(letters.state, "sent")
        self.assertEqual(letters.sent_date, sent_date)
        self.assertEqual(letters.print_attachment_id, first_document)
        self.assertEqual(len(letters.print_batch_ids), 2)

    @freeze_time(TODAY)
    def test_salesperson_cannot_print(self):
        partners = self._customers_with_address(1, "Sales")
        partners.user_id = self.salesperson
        letters = self._letters(partners)
        # The salesperson sees the letter of their customer, but may not print.
        self.assertTrue(letters.with_user(self.salesperson).read(["state"]))
        with self.assertRaises(AccessError):
            self._wizard(letters, user=self.salesperson)
        with self.assertRaises(AccessError):
            letters.with_user(self.salesperson).action_print()
        self.assertEqual(letters.state, "todo")

    @freeze_time(TODAY)
    def test_action_print_for_api_callers_prints_and_sends(self):
        letters = self._letters(self._customers_with_address(2, "Api"))
        action = letters.with_user(self.accountant).action_print()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(set(letters.mapped("state")), {"sent"})
        self.assertTrue(letters.print_attachment_id)
