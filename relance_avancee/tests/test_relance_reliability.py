from datetime import timedelta
from unittest.mock import MagicMock, patch

import psycopg2.errors
from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import IrMailServer, MailDeliveryException
from odoo.addons.sms.tools.sms_api import SmsApi

from .common import RelanceCommon


class SimulatedCrash(BaseException):
    """A crash that no ``except Exception`` catches, like a killed worker."""


@tagged("post_install", "-at_install")
class TestRelanceReliability(RelanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls.env["res.partner"]
        cls.invoices = cls.env["account.move"]
        for index in range(5):
            partner = cls._create_customer(f"Client {index}", cls.profile_sme)
            cls.partners |= partner
            cls.invoices |= cls._invoice(partner, 100.0 + index, "2026-03-31")

    def test_rerun_same_day_sends_nothing(self):
        with freeze_time("2026-04-03"):
            first = self._run("2026-04-03", self.partners)
            second = self._run("2026-04-03", self.partners)
        self.assertEqual(first.communications, 5)
        self.assertEqual(second.communications, 0)
        reminders = self._history(kind="reminder")
        self.assertEqual(len(reminders), 5)
        self.assertEqual(set(reminders.mapped("state")), {"sent"})
        for partner in self.partners:
            self.assertEqual(len(self._mails(partner)), 1)

    def test_missed_day_is_caught_up(self):
        # The first reminder is due at D+3; the batch did not run that day.
        with freeze_time("2026-04-05"):
            self._run("2026-04-05", self.partners[0])
        row = self._history(self.partners[0], kind="reminder")
        self.assertEqual(row.state, "sent")
        self.assertEqual(row.level_id.delay, 3)
        # The missed courtesy notice is recorded as skipped, with its reason.
        courtesy = self._history(self.partners[0], kind="courtesy")
        self.assertEqual(courtesy.state, "skipped")
        self.assertIn("courtesy", courtesy.reason)

    def test_never_two_steps_at_once_after_a_long_pause(self):
        # 40 days late and never reminded: the first reminder only; the second
        # follows after the scenario's spacing (12 - 3 = 9 days).
        with freeze_time("2026-05-10"):
            self._run("2026-05-10", self.partners[0])
        self.assertEqual(
            self._history(self.partners[0], kind="reminder").level_id.delay, 3
        )
        with freeze_time("2026-05-18"):
            stats = self._run("2026-05-18", self.partners[0])
        self.assertEqual(stats.communications, 0)
        with freeze_time("2026-05-19"):
            self._run("2026-05-19", self.partners[0])
        self.assertEqual(
            self._history(self.partners[0], kind="reminder").level_id.mapped("delay"),
            [3, 12],
        )

    def test_crash_then_rerun_sends_each_step_once(self):
        self.company.relance_batch_size = 2
        Dispatcher = type(self.env["relance.dispatcher"])
        original = Dispatcher._dispatch
        calls = []

        def crashing_dispatch(dispatcher, comms, *args, **kwargs):
            calls.append(comms.partner_id.ids)
            if len(calls) == 2:
                raise SimulatedCrash()
            return original(dispatcher, comms, *args, **kwargs)

        with freeze_time("2026-04-03"):
            # Not assertRaises: Odoo's rolls the whole block back to a savepoint.
            crashed = False
            with patch.object(Dispatcher, "_dispatch", crashing_dispatch):
                try:
                    self._run("2026-04-03", self.partners)
                except SimulatedCrash:
                    crashed = True
            self.assertTrue(crashed)
            # The first chunk (2 customers) was kept; the chunk in progress lost.
            self.assertEqual(len(self._history(kind="reminder")), 2)
            stats = self._run("2026-04-03", self.partners)
        self.assertEqual(stats.communications, 3)
        reminders = self._history(kind="reminder")
        self.assertEqual(len(reminders), 5)
        self.assertEqual(sorted(reminders.move_id.ids), sorted(self.invoices.ids))
        for partner in self.partners:
            self.assertEqual(len(self._mails(partner)), 1, partner.name)

    def test_payment_between_scan_and_send_stops_the_reminder(self):
        partner = self.partners[0]
        invoice = self.invoices[0]
        today = fields.Date.to_date("2026-04-03")
        with freeze_time(today):
            # The run's scan finds the customer...
            todo = self.engine._get_partners_to_serve(self.company, today, partner.ids)
            self.assertEqual(todo, partner.ids)
            # ...which pays before its chunk is served: the chunk reads the
            # balances again under its lock and sends nothing.
            self._pay(invoice, today)
            stats = self.engine._act_chunk(self.company, today, todo)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(partner, kind="reminder"))
        self.assertFalse(self._mails(partner))

    def test_unique_key_refuses_a_second_row(self):
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.partners[0])
        row = self._history(self.partners[0], kind="reminder")
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            row.copy()

    def test_mail_failure_is_an_error_and_retry_sends_once(self):
        partner = self.partners[0]
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        row = self._history(partner, kind="reminder")
        mail = self._mails(partner)
        self.assertEqual(mail.state, "outgoing")
        # SMTP is out of reach here: the server's refusal is mocked.
        with (
            patch.object(IrMailServer, "connect", return_value=MagicMock()),
            patch.object(
                IrMailServer,
                "send_email",
                side_effect=MailDeliveryException("550 Mailbox unavailable"),
            ),
            mute_logger("odoo.addons.mail.models.mail_mail"),
        ):
            mail.send(raise_exception=False)
        self.assertEqual(mail.state, "exception")
        self.assertEqual(row.state, "error")
        self.assertIn("550 Mailbox unavailable", row.reason)
        comm = row.communication_id
        self.assertEqual(comm.state, "error")

        comm.action_retry()
        self.assertEqual(row.state, "sent")
        self.assertEqual(comm.retry_count, 1)
        self.assertEqual(len(self._mails(partner)), 2)
        with self.assertRaises(UserError):
            comm.action_retry()
        self.assertEqual(len(self._mails(partner)), 2)

    def test_sms_refused_by_provider_is_an_error(self):
        partner = self._create_customer("Sms Refuse", self.profile_risk)
        self._invoice(partner, 100.0, "2026-03-31")
        with freeze_time("2026-04-01"):
            self._run("2026-04-01", partner)
        row = self._history(partner, channel="sms")
        self.assertEqual(row.state, "sent")
        sms = self.env["sms.sms"].search([("partner_id", "=", partner.id)])
        self.assertEqual(sms.state, "outgoing")

        # IAP is out of reach here: the provider's answer is mocked, not our code.
        def provider_refuses(_api, messages, delivery_reports_url=False):
            return [
                {"uuid": number["uuid"], "state": "wrong_number_format"}
                for message in messages
                for number in message["numbers"]
            ]

        with patch.object(SmsApi, "_send_sms_batch", provider_refuses):
            sms._send()
        self.assertEqual(sms.state, "error")
        self.assertEqual(row.state, "error")
        self.assertIn("SMS provider refused", row.reason)
        # Somebody is asked to fix the number; nothing is sent again by itself.
        activity = partner.activity_ids.filtered(
            lambda a: (
                a.activity_type_id
                == self.env.ref(
                    "relance_avancee.mail_activity_type_relance_sms_failure"
                )
            )
        )
        self.assertEqual(len(activity), 1)
        self.assertIn("Fix the mobile number", activity.summary)
        self.assertEqual(
            self.env["sms.sms"].search_count([("partner_id", "=", partner.id)]), 1
        )
        # The email of the same step is untouched.
        self.assertEqual(
            self._history(partner, channel="email", kind="reminder").state, "sent"
        )

    def test_step_waiting_for_a_person_holds_the_scenario(self):
        partner = self.partners[0]
        for day in ("2026-04-03", "2026-04-12", "2026-04-18"):
            with freeze_time(day):
                self._run(day, partner)
        call = self._history(partner, channel="phone")
        self.assertEqual(call.state, "todo")
        # Nobody called: the letter (D+30) waits.
        with freeze_time("2026-05-05"):
            stats = self._run("2026-05-05", partner)
            self.assertIn("waiting", partner.relance_next_step)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(partner, channel="letter"))
        # The call is done on May 6: the letter follows 12 days later (30 - 18).
        with freeze_time("2026-05-06"):
            call.communication_id.action_mark_done()
        self.assertEqual(str(call.done_date), "2026-05-06")
        with freeze_time("2026-05-17"):
            self.assertEqual(self._run("2026-05-17", partner).communications, 0)
        with freeze_time("2026-05-18"):
            self._run("2026-05-18", partner)
        self.assertEqual(self._history(partner, channel="letter").state, "todo")

    def test_retry_of_a_paid_invoice_sends_nothing(self):
        partner = self.partners[1]
        partner.email = "not-an-email"
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        comm = self._history(partner, kind="reminder").communication_id
        self.assertEqual(comm.state, "error")
        self._pay(self.invoices[1], "2026-04-04")
        partner.email = "client1@example.com"
        comm.action_retry()
        self.assertEqual(comm.state, "cancelled")
        self.assertFalse(self._mails(partner))


@tagged("post_install", "-at_install")
class TestRelanceConcurrency(TransactionCase):
    """Two batches on two real cursors (committed data, real row locks)."""

    def setUp(self):
        super().setUp()
        self.today = fields.Date.context_today(self.env["res.partner"])
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            profile = env.ref("relance_avancee.relance_profile_sme")
            partners = env["res.partner"]
            for index in range(3):
                partners |= (
                    env["res.partner"]
                    .with_company(company)
                    .create(
                        {
                            "name": f"Concurrent customer {index}",
                            "is_company": True,
                            "email": f"concurrent{index}@example.com",
                            "relance_profile_id": profile.id,
                            "relance_profile_auto": False,
                        }
                    )
                )
            moves = (
                env["account.move"]
                .with_company(company)
                .create(
                    [
                        {
                            "move_type": "out_invoice",
                            "partner_id": partner.id,
                            "invoice_date": self.today - timedelta(days=5),
                            "invoice_date_due": self.today - timedelta(days=5),
                            "invoice_line_ids": [
                                Command.create(
                                    {
                                        "name": "Services",
                                        "quantity": 1,
                                        "price_unit": 50.0,
                                    }
                                )
                            ],
                        }
                        for partner in partners
                    ]
                )
            )
            moves.action_post()
            self.company_id = company.id
            self.partner_ids = partners.ids
            self.move_ids = moves.ids
        self.addCleanup(self._exclude_partners)

    def _exclude_partners(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(self.company_id)
            env["res.partner"].with_company(company).browse(self.partner_ids).write(
                {"relance_excluded": True}
            )

    def _engine(self, cr):
        env = api.Environment(cr, SUPERUSER_ID, {})
        return env["relance.engine"], env["res.company"].browse(self.company_id)

    def _count_rows_and_mails(self):
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT move_id, level_id, count(*) FROM relance_history
                    WHERE move_id = ANY(%s) AND kind = 'reminder'
                 GROUP BY move_id, level_id""",
                [self.move_ids],
            )
            rows = cr.fetchall()
            cr.execute(
                """SELECT count(*) FROM mail_mail m
                     JOIN mail_mail_res_partner_rel r ON r.mail_mail_id = m.id
                    WHERE r.res_partner_id = ANY(%s)""",
                [self.partner_ids],
            )
            mails = cr.fetchone()[0]
        return rows, mails

    def test_two_batches_at_once_take_different_customers(self):
        cr_a = self.registry.cursor()
        cr_b = self.registry.cursor()
        try:
            engine_a, company_a = self._engine(cr_a)
            engine_b, company_b = self._engine(cr_b)
            stats_a = engine_a._run(company_a, self.today, self.partner_ids)
            # Batch A holds its customers until it commits: B skips them.
            stats_b = engine_b._run(company_b, self.today, self.partner_ids)
            cr_a.commit()
            cr_b.commit()
        finally:
            cr_a.close()
            cr_b.close()
        self.assertEqual(stats_a.communications, 3)
        self.assertEqual(stats_b.locked, 3)
        self.assertEqual(stats_b.communications, 0)
        rows, mails = self._count_rows_and_mails()
        self.assertEqual(len(rows), 3)
        self.assertTrue(all(count == 1 for _move, _level, count in rows))
        self.assertEqual(mails, 3)

    def test_batch_with_a_stale_snapshot_sends_nothing_twice(self):
        cr_a = self.registry.cursor()
        cr_b = self.registry.cursor()
        try:
            engine_a, company_a = self._engine(cr_a)
            engine_b, company_b = self._engine(cr_b)
            # B reads first (its snapshot predates A's work)...
            engine_b._scan(company_b, self.today, self.partner_ids)
            # ...A serves everybody and commits...
            stats_a = engine_a._run(company_a, self.today, self.partner_ids)
            cr_a.commit()
            # ...then B acts on what it saw: the unique key and the locks stop it.
            stats_b = engine_b._run(company_b, self.today, self.partner_ids)
            cr_b.commit()
        finally:
            cr_a.close()
            cr_b.close()
        self.assertEqual(stats_a.communications, 3)
        self.assertEqual(stats_b.sent, 0)
        rows, mails = self._count_rows_and_mails()
        self.assertEqual(len(rows), 3)
        self.assertTrue(all(count == 1 for _move, _level, count in rows))
        self.assertEqual(mails, 3)

    def test_two_cron_workers_share_the_day_run(self):
        cr_a = self.registry.cursor()
        cr_b = self.registry.cursor()
        try:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            company = env_a["res.company"].browse(self.company_id)
            run_a = env_a["relance.run"]._get_or_start(company, self.today)
            cr_a.commit()
            self.addCleanup(self._delete_run, run_a.id)
            run_b = env_b["relance.run"].browse(run_a.id)
            # A serves the run and holds it until it commits: B serves nothing.
            run_a._serve(float("inf"))
            run_b._serve(float("inf"))
            self.assertEqual(run_b.position, 0)
            cr_a.commit()
            # A committed after B's snapshot: B still leaves the run alone...
            run_b._serve(float("inf"))
            cr_b.rollback()
            # ...and its next call finds the day done.
            run_b.invalidate_recordset()
            self.assertEqual(run_b.state, "done")
            run_b._serve(float("inf"))
            cr_b.commit()
        finally:
            cr_a.close()
            cr_b.close()
        rows, mails = self._count_rows_and_mails()
        self.assertEqual(len(rows), 3)
        self.assertTrue(all(count == 1 for _move, _level, count in rows))
        self.assertEqual(mails, 3)

    def _delete_run(self, run_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["relance.run"].browse(run_id).unlink()
