from datetime import date, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceForgottenTasks(RelanceCommon):
    """A dunning task left undone holds its customer's scenario: it is
    reminded to its responsible, then escalated, once each; the worklist
    shows it and for how long; "last reminder" only counts what reached the
    customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls._create_customer("Durand SA", cls.profile_sme)
        cls.invoice = cls._invoice(cls.partner, 48000.0, "2026-03-31")
        cls.manager = new_test_user(
            cls.env,
            login="relance_tasks_manager",
            name="Marc Manager",
            groups="base.group_user,relance_avancee.group_relance_manager",
        )
        cls.cron = cls.env.ref("relance_avancee.ir_cron_relance_late_tasks")

    def _walk_to_the_call(self):
        """Run the scenario up to the phone call (D+18) and return its
        activity, due that day."""
        for day in ("2026-04-03", "2026-04-12", "2026-04-18"):
            with freeze_time(day):
                self._run(day, self.partner)
        call = self._history(self.partner, channel="phone")
        self.assertEqual(call.state, "todo")
        activity = call.communication_id.activity_id
        self.assertEqual(activity.user_id, self.collector)
        self.assertEqual(activity.date_deadline, date(2026, 4, 18))
        return activity

    def _cron(self, day):
        with freeze_time(day):
            self.cron.method_direct_trigger()

    def _reminders(self):
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", self.partner.id),
                ("body", "ilike", "days late"),
                ("partner_ids", "in", self.collector.partner_id.ids),
            ]
        )

    def _escalations(self):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.partner.id),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref(
                        "relance_avancee.mail_activity_type_relance_late_task"
                    ).id,
                ),
            ]
        )

    def test_late_task_is_reminded_then_escalated_once_each(self):
        activity = self._walk_to_the_call()

        # Two days late: nothing yet; three (the company's default): the
        # collector is reminded, once.
        self._cron("2026-04-20")
        self.assertFalse(self._reminders())
        self._cron("2026-04-21")
        reminder = self._reminders()
        self.assertEqual(len(reminder), 1)
        self.assertIn("3 days late", str(reminder.body))
        self.assertEqual(activity.relance_reminded_date, date(2026, 4, 21))
        self._cron("2026-04-22")
        self.assertEqual(len(self._reminders()), 1)

        # Seven days after the reminder (the default), still not done: a
        # dunning manager gets an activity (the collector is the one who
        # forgot), once.
        self._cron("2026-04-27")
        self.assertFalse(self._escalations())
        self._cron("2026-04-28")
        escalation = self._escalations()
        self.assertEqual(len(escalation), 1)
        self.assertNotEqual(escalation.user_id, self.collector)
        self.assertTrue(
            escalation.user_id.has_group("relance_avancee.group_relance_manager")
        )
        self.assertIn("10 days late", str(escalation.note))
        self.assertIn(self.collector.name, str(escalation.note))
        self.assertEqual(activity.relance_escalated_date, date(2026, 4, 28))
        self._cron("2026-04-29")
        self._cron("2026-05-05")
        self.assertEqual(len(self._escalations()), 1)
        self.assertEqual(len(self._reminders()), 1)

        # The scenario waited for the call meanwhile; the collector makes it
        # and the scenario goes on with the letter, spaced from the call.
        with freeze_time("2026-04-30"):
            self.assertEqual(self._run("2026-04-30", self.partner).communications, 0)
        with freeze_time("2026-05-05"):
            activity.with_user(self.collector).action_feedback(feedback="Reached")
        self.assertEqual(self._history(self.partner, channel="phone").state, "sent")
        with freeze_time("2026-05-17"):
            self._run("2026-05-17", self.partner)
        self.assertEqual(self._history(self.partner, channel="letter").state, "todo")

    def test_escalation_goes_to_the_collector_when_somebody_else_forgot(self):
        self.partner.relance_collector_id = False
        self.company.relance_default_collector_id = self.collector
        activity = self._walk_to_the_call()
        salesperson = new_test_user(
            self.env, login="relance_tasks_sales", groups="base.group_user"
        )
        activity.user_id = salesperson
        self._cron("2026-04-21")
        self._cron("2026-04-28")
        self.assertEqual(self._escalations().user_id, self.collector)

    def test_switched_off_delays_remind_nobody(self):
        self.company.relance_task_reminder_days = 0
        self._walk_to_the_call()
        self._cron("2026-05-30")
        self.assertFalse(self._reminders())
        self.assertFalse(self._escalations())

    def test_a_task_done_in_time_is_never_reminded(self):
        activity = self._walk_to_the_call()
        with freeze_time("2026-04-19"):
            activity.with_user(self.collector).action_feedback(feedback="Reached")
        self._cron("2026-04-21")
        self._cron("2026-04-28")
        self.assertFalse(self._reminders())
        self.assertFalse(self._escalations())

    def test_late_task_delays_refuse_negative_days(self):
        with self.assertRaises(ValidationError):
            self.company.relance_task_escalation_days = -3

    def test_last_reminder_ignores_a_task_still_to_do(self):
        self._walk_to_the_call()
        partner = self.partner.with_user(self.collector)
        # The call is still to do: the last reminder is the firm email.
        with freeze_time("2026-04-20"):
            self.assertEqual(partner.relance_last_date, date(2026, 4, 12))
            self.assertEqual(partner.relance_last_level_id.tone, "firm")
            self.assertEqual(partner.relance_last_level_id.channel, "email")
            banner = partner._relance_get_banner_values()[self.partner.id]
            self.assertIn("Last reminder: Second reminder", " ".join(banner["details"]))
        # Made on the 22nd: the call is the last reminder, on that day.
        with freeze_time("2026-04-22"):
            call = self._history(self.partner, channel="phone")
            call.communication_id.activity_id.with_user(self.collector).action_feedback(
                feedback="Promised"
            )
        self.partner.invalidate_recordset()
        self.assertEqual(partner.relance_last_date, date(2026, 4, 22))
        self.assertEqual(partner.relance_last_level_id.channel, "phone")

    def test_letter_left_unprinted_asks_the_collector_once(self):
        """A letter waiting in Letters to print has no activity: past the
        reminder delay, the customer's collector is asked to print it, once."""
        self._create_company_bank_account()
        partner = self._create_customer("Lettre Oubliee SARL", self.profile_risk)
        self._invoice(partner, 900.0, "2026-03-31")
        Comm = self.env["relance.communication"]
        day = date(2026, 3, 31)
        letter = Comm
        for _i in range(40):
            with freeze_time(day):
                self._run(day, partner)
            waiting = Comm.search(
                [("partner_id", "=", partner.id), ("state", "=", "todo")]
            )
            letter = waiting.filtered(lambda c: c.channel == "letter")
            if letter:
                break
            # Calls and other tasks before the letter are done in time.
            with freeze_time(day):
                waiting.action_mark_done()
            day += timedelta(days=1)
        self.assertTrue(letter, "the at-risk scenario has a letter")
        self.assertFalse(letter.activity_id)
        late_type = self.env.ref("relance_avancee.mail_activity_type_relance_late_task")

        def asks():
            return self.env["mail.activity"].search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "=", partner.id),
                    ("activity_type_id", "=", late_type.id),
                ]
            )

        # Two days later: not late yet (reminder after 3 days).
        self._cron(letter.date + timedelta(days=2))
        self.assertFalse(asks())
        self._cron(letter.date + timedelta(days=3))
        activity = asks()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.collector)
        self.assertIn("Letters to print", activity.summary)
        self.assertIn("3 days", activity.note)
        self.assertEqual(letter.late_reminded_date, letter.date + timedelta(days=3))
        # Done with the activity but not with the letter: never asked twice.
        activity.action_feedback()
        self._cron(letter.date + timedelta(days=10))
        self.assertFalse(asks())
        self.assertEqual(letter.state, "todo")


@tagged("post_install", "-at_install")
class TestRelanceWorklistWaitingTask(RelanceCommon):
    """The worklist is a SQL view computed against the database's current
    date: dates relative to today, no frozen time."""

    def test_worklist_shows_the_waiting_task_and_its_age(self):
        today = fields.Date.today()
        partner = self._create_customer("Grand Compte", self.profile_key)
        self._invoice(partner, 48000.0, today - timedelta(days=10))
        other = self._create_customer("Petit Client", self.profile_sme)
        self._invoice(other, 300.0, today - timedelta(days=10))
        # Four days ago the key account's first step became a task; the
        # small business got an email.
        self._run(today - timedelta(days=4), partner | other)
        task = self._history(partner, state="todo")
        self.assertEqual(len(task), 1)
        self.assertTrue(task.communication_id.activity_id)
        collector = new_test_user(
            self.env,
            login="relance_worklist_collector",
            groups="base.group_user,relance_avancee.group_relance_user",
        )
        rows = (
            self.env["relance.customer.balance"]
            .with_user(collector)
            .search([("partner_id", "in", (partner | other).ids)])
        )
        row = rows.filtered(lambda r: r.partner_id == partner)
        self.assertEqual(row.waiting_level_id, task.level_id)
        self.assertEqual(row.waiting_days, 4)
        # A task still to do is not a reminder that reached the customer.
        self.assertFalse(row.last_reminder_date)
        self.assertFalse(partner.relance_last_date)
        other_row = rows.filtered(lambda r: r.partner_id == other)
        self.assertFalse(other_row.waiting_level_id)
        self.assertEqual(other_row.last_reminder_date, today - timedelta(days=4))
        self.assertFalse(other_row.paused_until)
        # A customer paused after a reply shows until when.
        other.relance_pause_until = today + timedelta(days=3)
        self.env.flush_all()
        other_row.invalidate_recordset()
        self.assertEqual(other_row.paused_until, today + timedelta(days=3))
        waiting = (
            self.env["relance.customer.balance"]
            .with_user(collector)
            .search(
                [
                    ("partner_id", "in", (partner | other).ids),
                    ("waiting_level_id", "!=", False),
                ]
            )
        )
        self.assertEqual(waiting.partner_id, partner)
