from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelancePaymentPlan(RelanceCommon):
    """A customer in difficulty pays 3,000.00 in three monthly instalments of
    1,000.00 (1 May, 1 June, 1 July 2026), agreed on 10 April 2026 by a
    collector (billing user)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector_user = new_test_user(
            cls.env,
            login="relance_plan_collector",
            name="Pauline Plan",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
        )
        cls.sales = new_test_user(
            cls.env, login="relance_plan_sales", groups="base.group_user"
        )
        cls.customer = cls._create_customer("Difficultes SARL", cls.profile_sme)
        cls.inv_1 = cls._invoice(cls.customer, 2000.0, "2026-03-01")
        cls.inv_2 = cls._invoice(cls.customer, 1000.0, "2026-03-15")

    def _plan(self, **values):
        Plan = self.env["relance.payment.plan"].with_user(self.collector_user)
        return Plan.create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set((self.inv_1 | self.inv_2).ids)],
                "instalment_count": 3,
                "first_date": "2026-05-01",
                "interval": "monthly",
                **values,
            }
        )

    def _started_plan(self):
        with freeze_time("2026-04-10"):
            plan = self._plan()
            plan.action_compute_schedule()
            plan.action_confirm()
        return plan

    def _check(self, plan, day):
        with freeze_time(day):
            return plan._check_instalments(fields.Date.to_date(day))

    def _plan_mails(self, plan):
        return self.env["mail.mail"].search(
            [("model", "=", "relance.payment.plan"), ("res_id", "=", plan.id)],
            order="id",
        )

    # ------------------------------------------------------------------
    # Schedule and validation
    # ------------------------------------------------------------------

    def test_schedule_splits_the_debt_exactly(self):
        with freeze_time("2026-04-10"):
            plan = self._plan(instalment_count=7)
            plan.action_compute_schedule()
        lines = plan.line_ids.sorted("date")
        # 3,000.00 / 7 = 428.57 six times, the last 3,000.00 - 6 x 428.57 = 428.58
        self.assertEqual(lines.mapped("amount"), [428.57] * 6 + [428.58])
        self.assertEqual(str(lines[0].date), "2026-05-01")
        self.assertEqual(str(lines[-1].date), "2026-11-01")
        self.assertEqual(plan.amount_total, 3000.0)
        self.assertEqual(plan.amount_scheduled, 3000.0)

    def test_instalments_must_sum_to_the_debt(self):
        with freeze_time("2026-04-10"):
            plan = self._plan()
            plan.action_compute_schedule()
            plan.line_ids[-1].amount = 900.0
            with self.assertRaisesRegex(
                ValidationError, r"add up to .*2,900\.00.*debt is .*3,000\.00"
            ):
                plan.action_confirm()
        self.assertEqual(plan.state, "draft")
        self.assertFalse(self._plan_mails(plan))

    def test_bad_schedules_are_refused(self):
        cases = [
            ({"line_ids": []}, "at least one instalment"),
            (
                {
                    "line_ids": [
                        Command.create({"date": "2026-04-01", "amount": 3000.0})
                    ]
                },
                "in the past",
            ),
            (
                {
                    "line_ids": [
                        Command.create({"date": "2026-05-01", "amount": 3500.0}),
                        Command.create({"date": "2026-06-01", "amount": -500.0}),
                    ]
                },
                "positive amount",
            ),
            (
                {
                    "line_ids": [
                        Command.create({"date": "2026-05-01", "amount": 1500.0}),
                        Command.create({"date": "2026-05-01", "amount": 1500.0}),
                    ]
                },
                "same day",
            ),
            ({"move_ids": [Command.clear()]}, "Choose the invoices"),
        ]
        with freeze_time("2026-04-10"):
            for values, message in cases:
                with self.subTest(message=message):
                    plan = self._plan(**values)
                    with self.assertRaisesRegex(ValidationError, message):
                        plan.action_confirm()
                    self.assertEqual(plan.state, "draft")

    def test_an_invoice_belongs_to_one_running_plan(self):
        plan = self._started_plan()
        with freeze_time("2026-04-11"):
            other = self._plan(move_ids=[Command.set(self.inv_2.ids)])
            other.action_compute_schedule()
            with self.assertRaisesRegex(ValidationError, "already belong"):
                other.action_confirm()
        self.assertEqual(plan.state, "running")

    def test_schedule_is_fixed_once_started(self):
        plan = self._started_plan()
        with self.assertRaises(UserError):
            plan.line_ids[0].amount = 10.0
        with self.assertRaises(UserError):
            plan.action_compute_schedule()

    # ------------------------------------------------------------------
    # Life of a plan
    # ------------------------------------------------------------------

    def test_start_emails_the_agreement(self):
        plan = self._started_plan()
        self.assertEqual(plan.state, "running")
        self.assertEqual(str(plan.date_start), "2026-04-10")
        self.assertEqual(set(plan.line_ids.mapped("state")), {"pending"})
        mail = self._plan_mails(plan)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertIn("payment plan", mail.subject)
        self.assertIn("3,000.00", mail.body_html)
        self.assertIn("1,000.00", mail.body_html)
        self.assertIn(self.inv_1.name, mail.body_html)
        self.assertIn("Payment plan started", self.customer.message_ids[0].body)
        # Both invoices are in the plan: the customer says why nothing comes.
        with freeze_time("2026-04-10"):
            self.customer.invalidate_recordset(["relance_next_step"])
            self.assertIn("paused until", self.customer.relance_next_step)
            self.assertIn("payment plan", self.customer.relance_next_step)

    def test_instalments_paid_on_time_complete_the_plan(self):
        plan = self._started_plan()
        self._pay(self.inv_2, "2026-04-28")  # 1,000.00: the first instalment
        self._check(plan, "2026-05-02")
        lines = plan.line_ids.sorted("date")
        self.assertEqual(lines.mapped("state"), ["paid", "pending", "pending"])
        self.assertEqual(plan.amount_paid, 1000.0)
        self.assertEqual(plan.next_line_id, lines[1])
        self._pay(self.inv_1, "2026-06-01")  # 2,000.00: the rest, early
        self._check(plan, "2026-06-02")
        self.assertEqual(plan.state, "completed")
        self.assertEqual(set(plan.line_ids.mapped("state")), {"paid"})
        self.assertEqual(str(plan.date_closed), "2026-06-02")
        self.assertEqual(len(self._plan_mails(plan)), 1)  # the agreement only

    def test_missed_instalment_reminded_once_then_plan_broken(self):
        plan = self._started_plan()
        self._check(plan, "2026-05-01")  # due today: not missed yet
        self.assertEqual(plan.line_ids.sorted("date")[0].state, "pending")
        missed, _completed, broken = self._check(plan, "2026-05-02")
        first = plan.line_ids.sorted("date")[0]
        self.assertEqual(missed, first)
        self.assertEqual(first.state, "missed")
        self.assertEqual(str(first.reminded_date), "2026-05-02")
        self.assertFalse(broken)
        reminder = self._plan_mails(plan)[1:]
        self.assertEqual(len(reminder), 1)
        self.assertIn("instalment not received", reminder.subject)
        self.assertIn("1,000.00", reminder.body_html)
        # The next days: no second reminder for the same instalment.
        self._check(plan, "2026-05-05")
        self.assertEqual(len(self._plan_mails(plan)), 2)
        # Grace of 10 days: on 11 May it is still running, on 12 May broken.
        self._check(plan, "2026-05-11")
        self.assertEqual(plan.state, "running")
        _missed, _completed, broken = self._check(plan, "2026-05-12")
        self.assertEqual(broken, plan)
        self.assertEqual(plan.state, "broken")
        activity = plan.activity_ids
        self.assertEqual(activity.summary, "Payment plan broken")
        self.assertEqual(activity.user_id, self.collector_user)
        self.assertIn("Payment plan broken", self.customer.message_ids[0].body)

    def test_missed_instalment_caught_up_within_grace(self):
        plan = self._started_plan()
        self._check(plan, "2026-05-03")
        self.assertEqual(plan.line_ids.sorted("date")[0].state, "missed")
        self._pay(self.inv_2, "2026-05-06")
        self._check(plan, "2026-05-20")
        self.assertEqual(plan.state, "running")
        self.assertEqual(
            plan.line_ids.sorted("date").mapped("state"),
            ["paid", "pending", "pending"],
        )

    def test_cron_follows_plans_in_bounded_batches(self):
        plan = self._started_plan()
        with freeze_time("2026-05-02"):
            done = self.env["relance.payment.plan"]._cron_check_payment_plans()
        self.assertIn(plan, done)
        self.assertEqual(plan.line_ids.sorted("date")[0].state, "missed")

    # ------------------------------------------------------------------
    # Who sees what
    # ------------------------------------------------------------------

    def test_salesperson_of_another_customer_sees_no_plan(self):
        plan = self._started_plan()
        Plan = self.env["relance.payment.plan"].with_user(self.sales)
        self.assertFalse(Plan.search([]))
        with self.assertRaises(AccessError):
            plan.with_user(self.sales).read(["amount_total"])
        with self.assertRaises(AccessError):
            Plan.create({"partner_id": self.customer.id})
        self.customer.user_id = self.sales
        self.assertEqual(Plan.search([]), plan)
        self.assertEqual(plan.with_user(self.sales).line_ids, plan.line_ids)

    def test_customer_shows_its_plans(self):
        plan = self._started_plan()
        self.assertEqual(self.customer.relance_payment_plan_count, 1)
        self.assertEqual(self.customer.relance_payment_plan_ids, plan)
        action = self.customer.action_view_relance_payment_plans()
        self.assertEqual(
            self.env["relance.payment.plan"].search(action["domain"]), plan
        )


@tagged("post_install", "-at_install")
class TestRelancePaymentPlanPause(RelanceCommon):
    """While a plan runs, the batch leaves its invoices alone and chases the
    others; a broken plan lets the scenario resume at once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._create_customer("Echeancier SAS", cls.profile_sme)
        cls.covered = cls._invoice(cls.customer, 1200.0, "2026-03-01")
        cls.uncovered = cls._invoice(cls.customer, 300.0, "2026-03-20")
        with freeze_time("2026-04-10"):
            cls.plan = cls.env["relance.payment.plan"].create(
                {
                    "partner_id": cls.customer.id,
                    "move_ids": [Command.set(cls.covered.ids)],
                    "instalment_count": 2,
                    "first_date": "2026-05-01",
                    "send_agreement": False,
                }
            )
            cls.plan.action_compute_schedule()
            cls.plan.action_confirm()

    def test_running_plan_pauses_its_invoices_only(self):
        # Last instalment 1 June + 10 days of grace.
        self.assertEqual(str(self.covered.relance_pause_until), "2026-06-11")
        self.assertFalse(self.uncovered.relance_pause_until)
        with freeze_time("2026-04-12"):
            self.assertTrue(self.covered.relance_paused)
            self.assertIn("payment plan", self.covered.relance_pause_reason)
            self._run("2026-04-12", self.customer)
        self.assertFalse(
            self._history(self.customer).filtered(lambda h: h.move_id == self.covered)
        )
        self.assertTrue(
            self._history(self.customer).filtered(
                lambda h: h.move_id == self.uncovered and h.state == "sent"
            )
        )

    def test_broken_plan_resumes_the_reminders_at_once(self):
        with freeze_time("2026-05-12"):
            self.plan._check_instalments(fields.Date.to_date("2026-05-12"))
        self.assertEqual(self.plan.state, "broken")
        self.assertFalse(self.covered.relance_pause_until)
        self.assertEqual(str(self.covered.relance_resume_date), "2026-05-12")
        with freeze_time("2026-05-12"):
            self._run("2026-05-12", self.customer)
        rows = self._history(self.customer).filtered(
            lambda h: h.move_id == self.covered and h.state == "sent"
        )
        self.assertTrue(rows)
        self.assertEqual(set(rows.mapped("date")), {fields.Date.to_date("2026-05-12")})

    def test_cancelled_plan_ends_the_pause(self):
        self.plan.action_cancel()
        self.assertFalse(self.covered.relance_pause_until)
        self.assertIn("cancelled", self.customer.message_ids[0].body)
