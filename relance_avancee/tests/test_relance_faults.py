"""Faults, case by case (issue 11, item 2): the mail server, wkhtmltopdf, a
payment during the run, a worker killed, two workers, the database lost.
Each ends with every step recorded once and sent at most once.

Already proven elsewhere and not repeated here (``test_relance_reliability``,
``test_relance_batch``, ``test_relance_guards``): the mail server refusing an
email (550) and its retry; the SMS provider refusing; wkhtmltopdf crashing on
the invoice PDFs; a payment between the run's scan and its chunk; a crash in
the middle of a chunk before anything is sent; two batches at once on two
cursors; two cron workers sharing the day's run.
"""

import os
import shutil
import smtplib
import stat
import tempfile
import threading
import time
from unittest.mock import MagicMock, patch

import psycopg2
from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models import ir_actions_report
from odoo.addons.base.models.ir_actions_report import IrActionsReport
from odoo.addons.base.models.ir_mail_server import IrMailServer

from .common import RelanceCommon

DAY = "2026-04-03"


class SimulatedCrash(BaseException):
    """A crash that no ``except Exception`` catches, like a killed worker."""


@tagged("post_install", "-at_install")
class TestRelanceFaults(RelanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.relance_enabled = True
        # The cron serves every enabled company: only this one here.
        cls.env["res.company"].search([("id", "!=", cls.company.id)]).write(
            {"relance_enabled": False}
        )
        cls.collector_user = new_test_user(
            cls.env,
            login="faults_collector",
            groups="account.group_account_invoice,relance_avancee.group_relance_user",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        cls.billing = new_test_user(
            cls.env,
            login="faults_billing",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        # A wkhtmltopdf that crashes as a real one does (killed by SIGSEGV).
        cls.bin_dir = tempfile.mkdtemp(prefix="relance-wkhtmltopdf-")
        cls.addClassCleanup(shutil.rmtree, cls.bin_dir, ignore_errors=True)
        cls.crashing_bin = os.path.join(cls.bin_dir, "wkhtmltopdf")
        with open(cls.crashing_bin, "w", encoding="utf-8") as script:
            script.write("#!/bin/sh\nkill -SEGV $$\n")
        os.chmod(cls.crashing_bin, stat.S_IRWXU)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _cron_call(self, deadline=0):
        """One call of the daily cron (one chunk with ``deadline=0``)."""
        return self.env["relance.run"]._cron_step(
            today=fields.Date.to_date(DAY), deadline=deadline
        )

    def _finish_run(self):
        run = self.env["relance.run"].search([("date", "=", DAY)])
        for _call in range(20):
            if run.state == "done":
                break
            self._cron_call()
        self.assertEqual(run.state, "done")
        return run

    def _assert_each_step_once(self, partners):
        """Exactly one history row and one queued email per customer's step,
        none in error."""
        rows = self._history(partners, kind="reminder")
        self.assertEqual(len(rows), len(partners.invoice_ids))
        self.assertEqual(set(rows.mapped("state")), {"sent"})
        keys = [(row.move_id.id, row.level_id.id, row.cycle) for row in rows]
        self.assertEqual(len(keys), len(set(keys)))
        for partner in partners:
            self.assertEqual(len(self._mails(partner)), 1, partner.name)

    def _reminded(self, name):
        """A customer whose first reminder is queued (the batch ran)."""
        partner = self._create_customer(name, self.profile_sme)
        self._invoice(partner, 100.0, "2026-03-31")
        with freeze_time(DAY):
            self._run(DAY, partner)
        row = self._history(partner, kind="reminder")
        mail = self._mails(partner)
        self.assertEqual((row.state, mail.state), ("sent", "outgoing"))
        return partner, row, mail

    def _assert_retry_sends_once(self, partner, row):
        """The collector sends the failed email again: the queue delivers it
        once; a second retry is refused and sends nothing."""
        comm = row.communication_id.with_user(self.collector_user)
        comm.action_retry()
        self.assertEqual((row.state, comm.retry_count), ("sent", 1))
        new_mail = self._mails(partner).filtered(lambda m: m.state == "outgoing")
        self.assertEqual(len(new_mail), 1)
        with (
            patch.object(IrMailServer, "connect", return_value=MagicMock()),
            patch.object(IrMailServer, "send_email", return_value="<ok@x>") as send,
        ):
            self.env["mail.mail"].process_email_queue(ids=new_mail.ids)
            with self.assertRaisesRegex(UserError, "Only communications in error"):
                comm.action_retry()
            self.env["mail.mail"].process_email_queue(ids=new_mail.ids)
        self.assertEqual(send.call_count, 1)
        self.assertEqual(row.state, "sent")
        self.assertEqual(comm.state, "sent")

    def _letter_to_print(self):
        """A letter waiting in the print queue."""
        self._create_company_bank_account()
        partner = self._create_customer("Lettre Imprimante", self.profile_sme)
        move = self._invoice(partner, 100.0, "2026-03-31")
        level = self.profile_sme._get_sorted_levels().filtered(
            lambda lvl: lvl.channel == "letter"
        )[:1]
        row = self.env["relance.history"].create(
            {
                "company_id": self.company.id,
                "partner_id": partner.id,
                "move_id": move.id,
                "level_id": level.id,
                "profile_id": self.profile_sme.id,
                "channel": "letter",
                "state": "todo",
                "date": "2026-04-30",
                "due_date": move.invoice_date_due,
                "amount_residual": move.amount_residual,
                "currency_id": move.currency_id.id,
                "amount_company": move.amount_residual,
            }
        )
        return self.env["relance.communication"].create(
            {
                "company_id": self.company.id,
                "partner_id": partner.id,
                "level_id": level.id,
                "profile_id": self.profile_sme.id,
                "channel": "letter",
                "date": "2026-04-30",
                "history_ids": [Command.set(row.ids)],
            }
        )

    def _print(self, letter):
        wizard = (
            self.env["relance.print.wizard"]
            .with_user(self.billing)
            .with_context(force_report_rendering=True)
            .create({"communication_ids": [Command.set(letter.ids)]})
        )
        return wizard.action_print()

    # ------------------------------------------------------------------
    # The mail server
    # ------------------------------------------------------------------

    def test_smtp_refusing_the_connection_ends_in_error_and_retry_sends_once(self):
        partner, row, mail = self._reminded("Smtp Ferme")
        with (
            patch.object(
                IrMailServer,
                "connect",
                side_effect=ConnectionRefusedError(111, "Connection refused"),
            ),
            mute_logger("odoo.addons.mail.models.mail_mail"),
        ):
            self.env["mail.mail"].process_email_queue(ids=mail.ids)
        self.assertEqual(mail.state, "exception")
        self.assertEqual(row.state, "error")
        self.assertIn("mail server refused", row.reason)
        self.assertIn("Connection refused", row.reason)
        self.assertEqual(row.communication_id.state, "error")
        self._assert_retry_sends_once(partner, row)

    def test_smtp_timing_out_ends_in_error_and_retry_sends_once(self):
        partner, row, mail = self._reminded("Smtp Lent")
        with (
            patch.object(IrMailServer, "connect", return_value=MagicMock()),
            patch.object(
                IrMailServer, "send_email", side_effect=TimeoutError("timed out")
            ),
            mute_logger("odoo.addons.mail.models.mail_mail"),
        ):
            self.env["mail.mail"].process_email_queue(ids=mail.ids)
        self.assertEqual(mail.state, "exception")
        self.assertEqual(row.state, "error")
        self.assertIn("timed out", row.reason)
        self._assert_retry_sends_once(partner, row)

    def test_smtp_session_dropped_ends_in_error_and_retry_sends_once(self):
        partner, row, mail = self._reminded("Smtp Coupe")
        with (
            patch.object(IrMailServer, "connect", return_value=MagicMock()),
            patch.object(
                IrMailServer,
                "send_email",
                side_effect=smtplib.SMTPServerDisconnected("Connection unexpectedly"),
            ),
            mute_logger("odoo.addons.mail.models.mail_mail"),
        ):
            self.env["mail.mail"].process_email_queue(ids=mail.ids)
        # Odoo leaves the email in exception, never tried again: so is the step.
        self.assertEqual(mail.state, "exception")
        self.assertEqual(row.state, "error")
        self.assertIn("Connection unexpectedly", row.reason)
        self._assert_retry_sends_once(partner, row)

    # ------------------------------------------------------------------
    # wkhtmltopdf
    # ------------------------------------------------------------------

    def test_wkhtmltopdf_missing_reminder_goes_without_pdf_said_on_the_row(self):
        self.profile_sme.level_ids.filtered(lambda lvl: lvl.channel == "email").write(
            {"attach_invoice_pdf": True}
        )
        partner = self._create_customer("Sans Wkhtmltopdf", self.profile_sme)
        self._invoice(partner, 100.0, "2026-03-31")
        with (
            patch.object(
                IrActionsReport, "get_wkhtmltopdf_state", return_value="install"
            ),
            freeze_time(DAY),
        ):
            self.engine.with_context(force_report_rendering=True)._run(
                self.company, fields.Date.to_date(DAY), partner.ids
            )
        row = self._history(partner, kind="reminder")
        self.assertEqual(row.state, "sent")
        self.assertIn("without the invoice PDFs", row.reason)
        self.assertIn("Wkhtmltopdf", row.reason)
        mail = self._mails(partner)
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.attachment_ids)

    def test_wkhtmltopdf_missing_refuses_the_letters_which_stay_to_print(self):
        letter = self._letter_to_print()
        with (
            patch.object(
                IrActionsReport, "get_wkhtmltopdf_state", return_value="install"
            ),
            self.assertRaisesRegex(UserError, "wkhtmltopdf is not installed"),
        ):
            self._print(letter)
        self.assertEqual(letter.state, "todo")
        self.assertFalse(letter.print_batch_ids)

    def test_wkhtmltopdf_crashing_refuses_the_letters_which_stay_to_print(self):
        letter = self._letter_to_print()
        with (
            patch.object(
                ir_actions_report,
                "_get_wkhtmltopdf_bin",
                return_value=self.crashing_bin,
            ),
            patch.object(IrActionsReport, "get_wkhtmltopdf_state", return_value="ok"),
            mute_logger("odoo.addons.base.models.ir_actions_report"),
            self.assertRaisesRegex(UserError, "error code: -11"),
        ):
            self._print(letter)
        self.assertEqual(letter.state, "todo")
        self.assertFalse(letter.print_batch_ids)

    # ------------------------------------------------------------------
    # The run
    # ------------------------------------------------------------------

    def test_payment_recorded_by_another_user_during_the_run_stops_its_step(self):
        self.company.relance_batch_size = 1
        first = self._create_customer("Premier Servi", self.profile_sme)
        payer = self._create_customer("Payeur Pendant", self.profile_sme)
        self._invoice(first, 100.0, "2026-03-31")
        invoice = self._invoice(payer, 200.0, "2026-03-31")
        with freeze_time(DAY):
            run = self._cron_call()
            self.assertEqual(run.customer_count, 2)
            self.assertEqual(run.position, 1)
            # Between two chunks, the accountant records the customer's payment.
            self.env["account.payment.register"].with_user(self.billing).with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"payment_date": fields.Date.to_date(DAY)})._create_payments()
            self._finish_run()
        self.assertEqual(invoice.payment_state, "paid")
        self._assert_each_step_once(first)
        self.assertFalse(self._history(payer, kind="reminder"))
        self.assertFalse(self._mails(payer))

    def test_worker_killed_between_two_chunks_rerun_sends_each_step_once(self):
        self.company.relance_batch_size = 2
        partners = self._create_customers(5, "Entre")
        Run = type(self.env["relance.run"])
        original = Run._get_next_chunk
        calls = []

        def killed_before_second_chunk(run):
            calls.append(run.position)
            if len(calls) == 2:
                raise SimulatedCrash()
            return original(run)

        with freeze_time(DAY):
            crashed = False
            with patch.object(Run, "_get_next_chunk", killed_before_second_chunk):
                try:
                    self._cron_call(deadline=float("inf"))
                except SimulatedCrash:
                    crashed = True
            self.assertTrue(crashed)
            run = self.env["relance.run"].search([("date", "=", DAY)])
            self.assertEqual((run.position, run.state), (2, "running"))
            self._finish_run()
        self._assert_each_step_once(partners)

    def test_worker_killed_after_sending_a_chunk_rerun_sends_each_step_once(self):
        self.company.relance_batch_size = 2
        partners = self._create_customers(4, "Pendant")
        Run = type(self.env["relance.run"])
        original = Run._process_chunk

        def killed_after_sending(run, partner_ids):
            original(run, partner_ids)
            # Rows recorded and emails queued, the progress not committed yet.
            self.assertEqual(len(self._history(partners, kind="reminder")), 4)
            raise SimulatedCrash()

        with freeze_time(DAY):
            self._cron_call()
            crashed = False
            try:
                # The killed worker's transaction is lost: rolled back whole.
                with (
                    self.env.cr.savepoint(),
                    patch.object(Run, "_process_chunk", killed_after_sending),
                ):
                    self._cron_call()
            except SimulatedCrash:
                crashed = True
            self.assertTrue(crashed)
            self.env.invalidate_all(flush=False)
            self.assertEqual(len(self._history(partners, kind="reminder")), 2)
            self._finish_run()
        self._assert_each_step_once(partners)

    def test_database_lost_mid_chunk_rolls_it_back_and_next_run_finishes(self):
        self.company.relance_batch_size = 2
        partners = self._create_customers(4, "Coupure")
        Dispatcher = type(self.env["relance.dispatcher"])
        original = Dispatcher._dispatch
        calls = []

        def connection_lost_in_second_chunk(dispatcher, comms, *args, **kwargs):
            calls.append(comms.ids)
            if len(calls) == 2:
                raise psycopg2.OperationalError(
                    "server closed the connection unexpectedly"
                )
            return original(dispatcher, comms, *args, **kwargs)

        with freeze_time(DAY):
            # Not assertRaises: Odoo's rolls the whole block back to a savepoint.
            lost = False
            with patch.object(Dispatcher, "_dispatch", connection_lost_in_second_chunk):
                try:
                    self._cron_call(deadline=float("inf"))
                except psycopg2.OperationalError:
                    lost = True
            self.assertTrue(lost)
            # Not this customer's fault: no row in error, the chunk rolled back.
            self.assertFalse(self._history(partners, state="error"))
            self.assertEqual(len(self._history(partners, kind="reminder")), 2)
            self._finish_run()
        self._assert_each_step_once(partners)


@tagged("post_install", "-at_install")
class TestRelanceRunStartedTwice(TransactionCase):
    """Two cron workers starting the same day at the same moment, on two real
    cursors: one run, whichever commits first."""

    DAY = fields.Date.to_date("2031-01-02")

    def setUp(self):
        super().setUp()
        self.company_id = self.env.ref("base.main_company").id
        self.addCleanup(self._delete_runs)

    def _delete_runs(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM relance_run WHERE company_id = %s AND date = %s",
                [self.company_id, self.DAY],
            )

    def test_two_runs_of_the_same_day_started_at_once_make_one(self):
        cr_a = self.registry.cursor()
        cr_b = self.registry.cursor()
        result = {}
        try:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            run_a = env_a["relance.run"]._get_or_start(
                env_a["res.company"].browse(self.company_id), self.DAY
            )
            company_b = env_b["res.company"].browse(self.company_id)

            def start_b():
                result["run"] = env_b["relance.run"]._get_or_start(company_b, self.DAY)

            # B's insert waits on A's uncommitted run (the unique key)...
            thread = threading.Thread(target=start_b)
            thread.start()
            time.sleep(0.5)
            self.assertTrue(thread.is_alive())
            # ...and gives way once A commits.
            cr_a.commit()
            thread.join(30)
            self.assertFalse(thread.is_alive())
            cr_b.commit()
        finally:
            cr_a.close()
            cr_b.close()
        # B did not start a second run: it serves A's, or nothing this call.
        self.assertIn(result["run"].id, (False, run_a.id))
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM relance_run WHERE company_id = %s AND date = %s",
                [self.company_id, self.DAY],
            )
            self.assertEqual(cr.fetchone()[0], 1)
