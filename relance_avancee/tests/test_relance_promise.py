from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import format_date

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelancePromise(RelanceCommon):
    """Promises to pay: they pause the reminders of what they cover, are kept
    by payments reconciled by their date, or broken, and then the scenario
    resumes at once. Recorded by a collector without accounting rights."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales = new_test_user(
            cls.env, login="promise_sales", groups="base.group_user"
        )
        cls.other_sales = new_test_user(
            cls.env, login="promise_other_sales", groups="base.group_user"
        )
        cls.partner = cls._create_customer(
            "Promet SA", cls.profile_sme, user_id=cls.sales.id
        )
        cls.invoice_1 = cls._invoice(cls.partner, 1000.0, "2026-03-31")
        cls.invoice_2 = cls._invoice(cls.partner, 500.0, "2026-03-31")
        # Not due yet: not covered by a promise for the whole customer.
        cls.invoice_later = cls._invoice(cls.partner, 300.0, "2026-06-30")

    def _promise(self, day, date, amount, moves=None, user=None):
        """A promise recorded on ``day`` by ``user`` (the collector)."""
        vals = {"partner_id": self.partner.id, "date": date, "amount": amount}
        if moves:
            vals["move_ids"] = [Command.set(moves.ids)]
        with freeze_time(day):
            return (
                self.env["relance.promise"]
                .with_user(user or self.collector)
                .create(vals)
                .sudo(False)
            )

    def _notes(self):
        """The customer's chatter, newest first, as plain strings."""
        return [str(body) for body in self.partner.message_ids.mapped("body")]

    def _reminded_moves(self, day):
        return self._history(self.partner, kind="reminder", date=day).move_id

    def test_promise_for_the_customer_covers_its_overdue_invoices(self):
        promise = self._promise("2026-04-05", "2026-04-20", 1500.0)
        self.assertEqual(promise.move_ids, self.invoice_1 | self.invoice_2)
        self.assertEqual(promise.user_id, self.collector)
        self.assertEqual(promise.date_made, fields.Date.to_date("2026-04-05"))
        self.assertEqual(
            self.invoice_1.relance_pause_until, fields.Date.to_date("2026-04-20")
        )
        self.assertFalse(self.invoice_later.relance_pause_until)
        with freeze_time("2026-04-05"):
            self.assertTrue(self.invoice_1.relance_paused)
            self.assertIn("promise to pay", self.invoice_1.relance_pause_reason)
        self.assertIn("Promise to pay recorded", self.partner.message_ids[0].body)

    def test_promise_of_a_customer_owing_nothing_is_refused(self):
        nothing = self._create_customer("Rien SA", self.profile_sme)
        with freeze_time("2026-04-05"), self.assertRaises(UserError):
            self.env["relance.promise"].with_user(self.collector).create(
                {"partner_id": nothing.id, "date": "2026-04-20", "amount": 10.0}
            )

    def test_pause_covers_the_promised_invoices_only(self):
        self._promise("2026-04-02", "2026-04-20", 1000.0, moves=self.invoice_1)
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.partner)
            # The preview says what the promise holds back, and why.
            action = self.partner.action_relance_preview()
            wizard = self.env["relance.preview.wizard"].browse(action["res_id"])
        self.assertEqual(self._reminded_moves("2026-04-03"), self.invoice_2)
        paused = wizard.line_ids.filtered(lambda line: line.action == "paused")
        self.assertEqual(paused.move_ids, self.invoice_1)
        self.assertFalse(paused._will_be_sent())
        self.assertIn("Reminders paused until", paused.note)
        self.assertIn(self.invoice_1.name, paused.note)

    def test_promise_kept_when_payments_cover_it(self):
        promise = self._promise("2026-04-05", "2026-04-20", 1500.0)
        with freeze_time("2026-04-10"):
            self._pay(self.invoice_1 | self.invoice_2, "2026-04-10")
        # Kept the day the payment is reconciled, not at the nightly check.
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.amount_paid, 1500.0)
        self.assertEqual(promise.date_closed, fields.Date.to_date("2026-04-10"))
        self.assertFalse(self.invoice_1.relance_resume_date)
        self.assertIn("kept", self.partner.message_ids[0].body)
        with freeze_time("2026-04-21"):
            self.env["relance.promise"]._cron_check_promises()
        self.assertEqual(promise.state, "kept")
        self.assertFalse(promise.activity_ids)

    def test_promise_partly_kept_closes_broken_and_chases_the_rest(self):
        promise = self._promise("2026-04-05", "2026-04-20", 1500.0)
        with freeze_time("2026-04-10"):
            self._pay(self.invoice_1, "2026-04-10")
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.amount_paid, 1000.0)
        with freeze_time("2026-04-20"):
            self.env["relance.promise"]._cron_check_promises()
            self._run("2026-04-20", self.partner)
        # Still within the promised date: nothing closes, nothing is sent.
        self.assertEqual(promise.state, "open")
        self.assertFalse(self._history(self.partner, kind="reminder"))
        with freeze_time("2026-04-21"):
            self.env["relance.promise"]._cron_check_promises()
            self._run("2026-04-21", self.partner)
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.amount_paid, 1000.0)
        self.assertTrue(any("partly kept: $" in note for note in self._notes()))
        self.assertEqual(self._reminded_moves("2026-04-21"), self.invoice_2)

    def test_promise_broken_resumes_the_scenario_at_once(self):
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.partner)
        first = self._history(self.partner, kind="reminder")
        self.assertEqual(first.move_id, self.invoice_1 | self.invoice_2)
        promise = self._promise("2026-04-04", "2026-04-06", 1500.0)
        with freeze_time("2026-04-07"):
            self.env["relance.promise"]._cron_check_promises()
            self.assertEqual(promise.state, "broken")
            self.assertEqual(
                self.invoice_1.relance_resume_date, fields.Date.to_date("2026-04-07")
            )
            self._run("2026-04-07", self.partner)
        # The next step (12 days after the due date, firm) is sent the day
        # after the promised date, not on 12 April.
        resumed = self._reminded_moves("2026-04-07")
        self.assertEqual(resumed, self.invoice_1 | self.invoice_2)
        level = self._history(self.partner, kind="reminder", date="2026-04-07").level_id
        self.assertEqual(level.delay, 12)
        self.assertEqual(level.tone, "firm")
        activity = promise.activity_ids
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("relance_avancee.mail_activity_type_promise_broken"),
        )
        self.assertEqual(activity.user_id, self.collector)
        self.assertTrue(
            any("broken: nothing was paid" in note for note in self._notes())
        )

    def test_without_promise_the_next_step_waits_for_its_delay(self):
        # The control of the test above: no broken promise, no early step.
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.partner)
        with freeze_time("2026-04-07"):
            self._run("2026-04-07", self.partner)
        self.assertFalse(self._reminded_moves("2026-04-07"))

    def test_cancelled_promise_lifts_the_pause(self):
        promise = self._promise("2026-04-02", "2026-04-20", 1500.0)
        with freeze_time("2026-04-03"):
            promise.with_user(self.collector).action_cancel()
            self._run("2026-04-03", self.partner)
        self.assertEqual(self._reminded_moves("2026-04-03"), promise.move_ids)
        self.assertFalse(self.invoice_1.relance_resume_date)

    def test_score_counts_kept_and_broken_promises(self):
        later = self._create_customer("Plus Tard SA", self.profile_sme)
        kept_customer = self._create_customer("Tenu SA", self.profile_sme)
        invoice_broken = self._invoice(later, 400.0, "2026-06-30", "2026-03-31")
        invoice_kept = self._invoice(kept_customer, 400.0, "2026-06-30", "2026-03-31")
        # No invoice due within the window: the neutral score, then the
        # promise term alone moves it.
        with freeze_time("2026-04-05"):
            Promise = self.env["relance.promise"].with_user(self.collector)
            broken = Promise.create(
                {
                    "partner_id": later.id,
                    "date": "2026-04-20",
                    "amount": 400.0,
                    "move_ids": [Command.set(invoice_broken.ids)],
                }
            )
            kept = Promise.create(
                {
                    "partner_id": kept_customer.id,
                    "date": "2026-04-20",
                    "amount": 400.0,
                    "move_ids": [Command.set(invoice_kept.ids)],
                }
            )
            scores = (later | kept_customer)._relance_compute_scores(self.company)
        self.assertEqual(scores, {later.id: 50, kept_customer.id: 50})
        with freeze_time("2026-04-10"):
            self._pay(invoice_kept, "2026-04-10")
        with freeze_time("2026-04-21"):
            self.env["relance.promise"]._cron_check_promises()
            scores = (later | kept_customer)._relance_compute_scores(self.company)
        self.assertEqual((kept.state, broken.state), ("kept", "broken"))
        self.assertEqual(scores, {later.id: 45, kept_customer.id: 53})
        # The nightly check stored the broken promise's score at once.
        self.assertEqual(later.with_company(self.company).relance_score, 45)

    def test_banner_shows_the_open_promise(self):
        self._promise("2026-04-05", "2026-04-20", 1500.0)
        with freeze_time("2026-04-06"):
            banner = self.partner.with_user(self.sales).relance_banner
        self.assertIn("Promise to pay:", banner)
        self.assertIn(format_date(self.env, fields.Date.to_date("2026-04-20")), banner)

    def test_record_a_promise_from_the_customer(self):
        with freeze_time("2026-04-05"):
            action = self.partner.with_user(
                self.collector
            ).action_relance_record_promise()
        context = action["context"]
        self.assertEqual(action["res_model"], "relance.promise")
        self.assertEqual(context["default_partner_id"], self.partner.id)
        self.assertEqual(
            set(context["default_move_ids"][0][2]),
            set((self.invoice_1 | self.invoice_2).ids),
        )
        self.assertEqual(context["default_amount"], 1500.0)
        self._promise("2026-04-05", "2026-04-20", 1500.0)
        self.assertEqual(self.partner.with_user(self.sales).relance_promise_count, 1)

    def test_record_a_promise_through_the_form(self):
        billing = new_test_user(
            self.env,
            login="promise_billing",
            groups="base.group_user,account.group_account_invoice",
        )
        with freeze_time("2026-04-05"):
            action = self.partner.with_user(billing).action_relance_record_promise()
            Promise = self.env["relance.promise"].with_user(billing)
            form = Form(Promise.with_context(**action["context"]))
            form.date = "2026-04-20"
            promise = form.save()
        self.assertEqual(promise.move_ids, self.invoice_1 | self.invoice_2)
        self.assertEqual(promise.amount, 1500.0)
        self.assertEqual(promise.user_id, billing)
        self.assertEqual(
            self.invoice_2.relance_pause_until, fields.Date.to_date("2026-04-20")
        )

    def test_digest_lists_open_and_broken_promises(self):
        promise = self._promise("2026-04-05", "2026-04-06", 1500.0)
        Digest = self.env["relance.digest"]
        with freeze_time("2026-04-05"):
            rows = Digest._get_digest_promises(
                self.company,
                fields.Date.to_date("2026-04-05"),
                {self.partner.id: self.sales},
            )
        self.assertEqual([row["promise"] for row in rows[self.sales.id]], [promise])
        with freeze_time("2026-04-07"):
            self.env["relance.promise"]._cron_check_promises()
            rows = Digest._get_digest_promises(
                self.company,
                fields.Date.to_date("2026-04-07"),
                {self.partner.id: self.sales},
            )
        self.assertEqual(rows[self.sales.id][0]["state"], "broken")

    def test_digest_mail_lists_the_broken_promise(self):
        self.company.write(
            {
                "relance_digest_interval": "weekly",
                "relance_digest_weekday": "0",
                "relance_digest_last_date": "2026-04-13",
            }
        )
        self._promise("2026-04-14", "2026-04-15", 1500.0)
        with freeze_time("2026-04-16"):
            self.env["relance.promise"]._cron_check_promises()
        with freeze_time("2026-04-20"):
            self.env["relance.digest"]._cron_send_digest()
        mail = self.env["mail.mail"].search(
            [("model", "=", "res.users"), ("res_id", "=", self.sales.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("Promises to pay", mail.body_html)
        self.assertIn("Promet SA", mail.body_html)
        self.assertIn("Broken", mail.body_html)

    def test_salesperson_of_another_customer_cannot_read_the_promise(self):
        promise = self._promise("2026-04-05", "2026-04-20", 1500.0)
        Promise = self.env["relance.promise"]
        self.assertEqual(Promise.with_user(self.sales).search([]), promise)
        self.assertFalse(Promise.with_user(self.other_sales).search([]))
        with self.assertRaises(AccessError):
            promise.with_user(self.other_sales).read(["amount"])

    def test_other_company_cannot_see_the_promise(self):
        promise = self._promise("2026-04-05", "2026-04-20", 1500.0)
        company_b = self.setup_other_company()["company"]
        collector_b = new_test_user(
            self.env,
            login="promise_collector_b",
            groups="base.group_user,relance_avancee.group_relance_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        Promise = self.env["relance.promise"].with_user(collector_b)
        self.assertFalse(Promise.search([]))
        with self.assertRaises(AccessError):
            promise.with_user(collector_b).read(["amount"])
