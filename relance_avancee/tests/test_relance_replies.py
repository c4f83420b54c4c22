from datetime import date
from unittest.mock import MagicMock, patch

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import IrMailServer, MailDeliveryException

from .common import RelanceCommon

REPLY = """Return-Path: <{email_from}>
To: {to}
From: {email_from}
Subject: Re: {subject}
Message-ID: <{msg_id}@customer.example.com>
In-Reply-To: {in_reply_to}
References: {in_reply_to}
Date: Sun, 05 Apr 2026 09:12:00 +0200
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, we paid this invoice last week: please check your bank account.
"""

BOUNCE = """Return-Path: <>
To: {to}
From: MAILER-DAEMON@mx.customer.example.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Date: Sat, 04 Apr 2026 08:00:00 +0200
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="BOUNDARY.report"
Message-Id: <bounce-1@mx.customer.example.com>

This is a MIME-encapsulated message.

--BOUNDARY.report
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

<{bounced}>: host mx.customer.example.com said: 550 No such
    person at this address. (in reply to RCPT TO command)

--BOUNDARY.report
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example.com

Final-Recipient: rfc822; {bounced}
Original-Recipient: rfc822;{bounced}
Action: failed
Status: 5.0.0
Diagnostic-Code: smtp; 550 No such person at this address.

--BOUNDARY.report
Content-Description: Undelivered Message
Content-Type: message/rfc822

Return-Path: <{to}>
Message-Id: {bounced_msg_id}
From: {to}
To: {bounced}
Subject: {subject}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Your invoice is overdue.

--BOUNDARY.report--
"""


@tagged("post_install", "-at_install")
class TestRelanceReplies(RelanceCommon):
    """A customer's reply to a reminder pauses its reminders and asks its
    collector to read it; a bounced reminder ends in error and asks for the
    address to be fixed, without sending anything twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls._create_customer("Dupont SARL", cls.profile_sme)
        cls.invoice = cls._invoice(cls.partner, 1200.0, "2026-03-31")
        cls.collector_user = new_test_user(
            cls.env,
            login="relance_replies_collector",
            groups="base.group_user,relance_avancee.group_relance_user",
        )

    def _first_reminder(self):
        """Send the first reminder (D+3) and return its communication."""
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.partner)
        comm = self._history(self.partner, kind="reminder").communication_id
        self.assertEqual(comm.state, "sent")
        self.assertTrue(comm.mail_message_id.message_id)
        return comm

    def _reply(self, comm, day="2026-04-05", email_from=None):
        """The customer answers ``comm`` through Odoo's mail gateway."""
        message = comm.mail_message_id
        raw = REPLY.format(
            email_from=email_from or self.partner.email_formatted,
            to=message.reply_to or "compta@example.com",
            subject=message.subject,
            msg_id=f"reply-{comm.id}-{day}",
            in_reply_to=message.message_id,
        )
        with freeze_time(day):
            return self.env["mail.thread"].message_process(False, raw)

    def _reply_activities(self, partner=None):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", (partner or self.partner).id),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref("relance_avancee.mail_activity_type_relance_reply").id,
                ),
            ]
        )

    def test_reply_pauses_the_customer_then_the_scenario_resumes(self):
        comm = self._first_reminder()
        thread_id = self._reply(comm)

        # Routed by the gateway to the customer's chatter, under the reminder.
        self.assertEqual(thread_id, self.partner.id)
        reply = self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", self.partner.id),
                ("parent_id", "=", comm.mail_message_id.id),
            ]
        )
        self.assertEqual(len(reply), 1)
        self.assertIn("we paid this invoice last week", str(reply.body))
        # Paused for the company's 10 days, with the reason; the collector
        # gets one activity to read the reply.
        self.assertEqual(self.partner.relance_pause_until, date(2026, 4, 15))
        self.assertIn("Replied on", self.partner.relance_pause_reason)
        activity = self._reply_activities()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.collector)
        self.assertIn("paused until", str(activity.note))

        # D+12, the firm reminder's day: the collector's preview shows the
        # customer paused and until when, and nothing can be sent to it.
        with freeze_time("2026-04-12"):
            wizard = (
                self.env["relance.preview.wizard"]
                .with_user(self.collector_user)
                .create({"partner_ids": [(6, 0, self.partner.ids)]})
            )
            wizard._compute_lines()
            self.assertEqual(wizard.line_ids.mapped("action"), ["paused"])
            self.assertFalse(wizard.line_ids.include)
            self.assertIn("04/15/2026", wizard.line_ids.note)
            partner = self.partner.with_user(self.collector_user)
            self.assertIn("Paused until 04/15/2026", partner.relance_next_step)
            self.assertIn("Second reminder", partner.relance_next_step)
            stats = self._run("2026-04-12", self.partner)
        self.assertEqual(stats.communications, 0)
        self.assertEqual(stats.skipped, 0)
        self.assertEqual(len(self._mails(self.partner)), 1)
        self.assertEqual(len(self._history(self.partner, kind="reminder")), 1)

        # The last day of the pause still waits; the day after, the scenario
        # resumes where it stood, with the step that was due.
        with freeze_time("2026-04-15"):
            self.assertEqual(self._run("2026-04-15", self.partner).communications, 0)
        with freeze_time("2026-04-16"):
            stats = self._run("2026-04-16", self.partner)
        self.assertEqual(stats.sent, 1)
        firm = self._history(self.partner, kind="reminder")[-1]
        self.assertEqual(firm.level_id.tone, "firm")
        self.assertEqual(firm.state, "sent")
        self.assertEqual(len(self._mails(self.partner)), 2)

    def test_second_reply_extends_the_pause_without_a_second_activity(self):
        comm = self._first_reminder()
        self._reply(comm, "2026-04-05")
        self._reply(comm, "2026-04-08")
        self.assertEqual(self.partner.relance_pause_until, date(2026, 4, 18))
        self.assertEqual(len(self._reply_activities()), 1)

    def test_no_pause_when_the_setting_is_zero(self):
        self.company.relance_reply_pause_days = 0
        comm = self._first_reminder()
        self._reply(comm)
        self.assertFalse(self.partner.relance_pause_until)
        # The collector is still asked to read the reply.
        self.assertEqual(len(self._reply_activities()), 1)
        with freeze_time("2026-04-12"):
            self.assertEqual(self._run("2026-04-12", self.partner).sent, 1)

    def test_reply_of_a_colleague_does_not_pause(self):
        comm = self._first_reminder()
        self._reply(comm, email_from=self.collector.email_formatted)
        self.assertFalse(self.partner.relance_pause_until)
        self.assertFalse(self._reply_activities())

    def test_reply_pauses_only_in_the_reminder_company(self):
        other = self.setup_other_company()["company"]
        comm = self._first_reminder()
        self._reply(comm)
        self.assertEqual(
            self.partner.with_company(self.company).relance_pause_until,
            date(2026, 4, 15),
        )
        self.assertFalse(self.partner.with_company(other).relance_pause_until)
        with freeze_time("2026-04-12"):
            planner = self.env["relance.planner"]
            _profiles, pauses = planner._read_partner_states(
                other, self.partner.ids, date(2026, 4, 12)
            )
        self.assertFalse(pauses)

    def test_pause_setting_refuses_negative_days(self):
        with self.assertRaises(ValidationError):
            self.company.relance_reply_pause_days = -1

    def test_mail_server_refusal_turns_rows_to_error_and_asks_to_fix_address(self):
        comm = self._first_reminder()
        row = comm.history_ids
        mail = self._mails(self.partner)
        # SMTP is out of reach here: the server's refusal is mocked.
        with (
            freeze_time("2026-04-03"),
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
        self.assertIn("The mail server refused the email", row.reason)
        self.assertIn("550 Mailbox unavailable", row.reason)
        activity = self._fix_address_activities()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.collector)
        self.assertIn(self.partner.email, str(activity.note))
        self._assert_nothing_sent_again()

    def test_bounce_turns_rows_to_error_and_asks_to_fix_address(self):
        comm = self._first_reminder()
        row = comm.history_ids
        message = comm.mail_message_id
        raw = BOUNCE.format(
            to="bounce@example.com",
            bounced=self.partner.email,
            bounced_msg_id=message.message_id,
            subject=message.subject,
        )
        with freeze_time("2026-04-04"):
            self.env["mail.thread"].message_process(False, raw)
        self.assertEqual(row.state, "error")
        self.assertIn("The email bounced", row.reason)
        self.assertIn("550 No such person", row.reason)
        self.assertEqual(comm.state, "error")
        activity = self._fix_address_activities()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.collector)
        # A second bounce of the same email neither repeats the activity nor
        # changes anything.
        with freeze_time("2026-04-04"):
            self.env["mail.thread"].message_process(
                False, raw.replace("bounce-1@", "bounce-2@")
            )
        self.assertEqual(len(self._fix_address_activities()), 1)
        self._assert_nothing_sent_again()

    def _fix_address_activities(self):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.partner.id),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref(
                        "relance_avancee.mail_activity_type_relance_bounce"
                    ).id,
                ),
            ]
        )

    def _assert_nothing_sent_again(self):
        """A failed reminder is not sent again by itself: the next runs of
        the same step send nothing, only a person's retry would."""
        for day in ("2026-04-04", "2026-04-05"):
            with freeze_time(day):
                stats = self._run(day, self.partner)
            self.assertEqual(stats.communications, 0)
        self.assertEqual(len(self._mails(self.partner)), 1)
        self.assertEqual(len(self._history(self.partner, kind="reminder")), 1)
