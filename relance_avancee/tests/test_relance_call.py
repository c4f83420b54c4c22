from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import RelanceCommon

DUE = "2026-03-31"


@tagged("post_install", "-at_install")
class TestRelanceCallLog(RelanceCommon):
    """A collector (billing user, no accounting-manager rights) logs the
    outcome of the scenario's phone call: the step is done, the call is in the
    customer's chatter and its follow-up (promise, dispute, call back) exists."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.caller = new_test_user(
            cls.env,
            login="relance_call_collector",
            name="Carole Caller",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
        )
        cls.customer = cls._create_customer("Risky Business", cls.profile_risk)
        cls.contact = cls.env["res.partner"].create(
            {"name": "Paul Payables", "parent_id": cls.customer.id}
        )
        cls.inv_1 = cls._invoice(cls.customer, 1200.0, DUE)
        cls.inv_2 = cls._invoice(cls.customer, 300.0, DUE)
        cls.annotation = cls.env["relance.annotation"].create(
            {"move_id": cls.inv_1.id, "kind": "other", "note": "Ask for Paul"}
        )

    def _phone_step(self):
        """Run the daily batch until the risk profile's phone step waits."""
        day = fields.Date.to_date(DUE) - timedelta(days=7)
        for _i in range(20):
            with freeze_time(day):
                self._run(day, self.customer)
            comm = self.env["relance.communication"].search(
                [
                    ("partner_id", "=", self.customer.id),
                    ("channel", "=", "phone"),
                    ("state", "=", "todo"),
                ]
            )
            if comm:
                return comm, day
            day += timedelta(days=1)
        self.fail("the risk profile's phone step never came")

    def _wizard(self, user, comm=None, **values):
        partner = self.customer.with_user(user)
        if comm:
            action = comm.with_user(user).action_log_call()
        else:
            action = partner.action_relance_log_call()
        form = Form(
            self.env[action["res_model"]]
            .with_user(user)
            .with_context(**action["context"])
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def test_call_with_promise_marks_the_phone_step_done(self):
        comm, day = self._phone_step()
        rows = comm.history_ids
        self.assertEqual(set(rows.mapped("state")), {"todo"})
        # The phone activity leads to the step, where the call is logged.
        self.assertIn(f"/odoo/relance.communication/{comm.id}", comm.activity_id.note)
        with freeze_time(day + timedelta(days=1)):
            wizard = self._wizard(self.caller)
            # The pending phone step and the overdue amount are proposed.
            self.assertEqual(wizard.communication_id, comm)
            self.assertEqual(wizard.promise_amount, 1500.0)
            self.assertEqual(wizard.open_move_ids, self.inv_1 | self.inv_2)
            self.assertTrue(wizard.history_ids)
            self.assertEqual(wizard.annotation_ids, self.annotation)
            wizard.write(
                {
                    "outcome": "promise",
                    "contact_id": self.contact.id,
                    "promise_date": day + timedelta(days=10),
                    "promise_amount": 1200.0,
                    "promise_move_ids": [Command.set(self.inv_1.ids)],
                    "note": "Pays the big one at the end of the month",
                    "next_date": day + timedelta(days=11),
                }
            )
            wizard.action_log()
        self.assertEqual(comm.state, "sent")
        self.assertEqual(set(rows.mapped("state")), {"sent"})
        self.assertEqual(
            rows.mapped("done_date"), [day + timedelta(days=1)] * len(rows)
        )
        call = self.env["relance.call"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(call.outcome, "promise")
        self.assertEqual(call.user_id, self.caller)
        self.assertEqual(call.contact_id, self.contact)
        self.assertEqual(call.communication_id, comm)
        promise = call.promise_id
        self.assertEqual(promise.partner_id, self.customer)
        self.assertEqual(promise.amount, 1200.0)
        self.assertEqual(promise.date, day + timedelta(days=10))
        self.assertEqual(promise.move_ids, self.inv_1)
        self.assertEqual(promise.origin, "call")
        self.assertEqual(promise.contact_id, self.contact)
        note = self.customer.message_ids[0]
        self.assertIn("Carole Caller", note.body)
        self.assertIn("Promise made", note.body)
        self.assertIn("Paul Payables", note.body)
        self.assertIn("1,200.00", note.body)
        activity = self.customer.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual(activity.date_deadline, day + timedelta(days=11))
        self.assertEqual(activity.user_id, self.caller)
        self.assertEqual(self.customer.relance_call_count, 1)

    def test_call_raising_a_dispute_pauses_the_invoice(self):
        with freeze_time("2026-04-02"):
            wizard = self._wizard(
                self.caller,
                outcome="dispute",
                dispute_move_id=self.inv_2,
                dispute_reason="wrong_goods",
                note="Half the pallets were <b>broken</b>",
            )
            wizard.action_log()
        dispute = self.inv_2.relance_dispute_ids
        self.assertEqual(dispute.reason, "wrong_goods")
        self.assertEqual(dispute.owner_id, self.caller)
        self.assertTrue(self.inv_2.relance_in_dispute)
        call = self.env["relance.call"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(call.dispute_id, dispute)
        # No phone step was waiting: the call is logged all the same.
        self.assertFalse(call.communication_id)
        body = self.customer.message_ids[0].body
        self.assertIn("&lt;b&gt;broken&lt;/b&gt;", body)
        self.assertNotIn("<b>broken</b>", body)

    def test_wrong_number_asks_for_the_right_one(self):
        with freeze_time("2026-04-02"):
            self._wizard(self.caller, outcome="wrong_number").action_log()
        activity = self.customer.activity_ids
        self.assertEqual(activity.summary, "Find the right phone number")
        self.assertEqual(str(activity.date_deadline), "2026-04-02")

    def test_bad_input_is_refused_with_a_reason(self):
        with freeze_time("2026-04-02"):
            cases = [
                ({"outcome": "promise"}, "by which date"),
                (
                    {
                        "outcome": "promise",
                        "promise_date": fields.Date.to_date("2026-04-01"),
                    },
                    "cannot be in the past",
                ),
                (
                    {
                        "outcome": "promise",
                        "promise_date": fields.Date.to_date("2026-04-20"),
                        "promise_amount": 0.0,
                    },
                    "must be positive",
                ),
                ({"outcome": "dispute"}, "which invoice"),
                (
                    {
                        "outcome": "reached",
                        "next_date": fields.Date.to_date("2026-03-30"),
                    },
                    "in the past",
                ),
            ]
            for values, message in cases:
                with self.subTest(values=values):
                    wizard = (
                        self.env["relance.call.wizard"]
                        .with_user(self.caller)
                        .create(
                            {
                                "partner_id": self.customer.id,
                                "company_id": self.company.id,
                                **values,
                            }
                        )
                    )
                    with self.assertRaisesRegex(UserError, message):
                        wizard.action_log()
        self.assertFalse(
            self.env["relance.call"].search([("partner_id", "=", self.customer.id)])
        )
        self.assertFalse(
            self.env["relance.promise"].search([("partner_id", "=", self.customer.id)])
        )

    def test_another_customers_invoice_cannot_be_promised(self):
        stranger = self._create_customer("Stranger SARL")
        foreign = self._invoice(stranger, 80.0, DUE)
        with freeze_time("2026-04-02"):
            wizard = (
                self.env["relance.call.wizard"]
                .with_user(self.caller)
                .create(
                    {
                        "partner_id": self.customer.id,
                        "company_id": self.company.id,
                        "outcome": "promise",
                        "promise_date": "2026-04-20",
                        "promise_amount": 80.0,
                        "promise_move_ids": [Command.set(foreign.ids)],
                    }
                )
            )
            with self.assertRaisesRegex(UserError, "open invoices of the customer"):
                wizard.action_log()


@tagged("post_install", "-at_install")
class TestRelanceCallSalesperson(RelanceCommon):
    """A key account's call is its salesperson's task: they log it; another
    salesperson cannot, and sees none of the customer's calls."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales = new_test_user(
            cls.env, login="relance_call_sales", groups="base.group_user"
        )
        cls.other_sales = new_test_user(
            cls.env, login="relance_call_other", groups="base.group_user"
        )
        cls.customer = cls._create_customer(
            "Grand Compte Appel", cls.profile_key, user_id=cls.sales.id
        )
        cls.invoice = cls._invoice(cls.customer, 48000.0, DUE)

    def _key_phone_step(self):
        day = fields.Date.to_date(DUE) - timedelta(days=7)
        Comm = self.env["relance.communication"]
        for _i in range(25):
            with freeze_time(day):
                self._run(day, self.customer)
                waiting = Comm.search(
                    [("partner_id", "=", self.customer.id), ("state", "=", "todo")]
                )
                phone = waiting.filtered(lambda c: c.channel == "phone")
                if phone:
                    return phone, day
                # Earlier steps of a key account are the salesperson's tasks too.
                waiting.with_user(self.sales).action_mark_done()
            day += timedelta(days=1)
        self.fail("the key-account profile's phone step never came")

    def test_salesperson_logs_their_key_account_call(self):
        comm, day = self._key_phone_step()
        self.assertEqual(comm.user_id, self.sales)
        with freeze_time(day):
            action = comm.with_user(self.sales).action_log_call()
            wizard = (
                self.env["relance.call.wizard"]
                .with_user(self.sales)
                .with_context(**action["context"])
                .create(
                    {"outcome": "payment_sent", "promise_date": day + timedelta(days=3)}
                )
            )
            self.assertEqual(wizard.promise_amount, 48000.0)
            wizard.action_log()
        self.assertEqual(comm.state, "sent")
        call = self.env["relance.call"].with_user(self.sales).search([])
        self.assertEqual(call.partner_id, self.customer)
        self.assertEqual(call.promise_id.origin, "call")
        self.assertFalse(
            self.env["relance.call"].with_user(self.other_sales).search([])
        )
        self.assertFalse(
            self.env["relance.promise"].with_user(self.other_sales).search([])
        )

    def test_another_salesperson_cannot_log_the_call(self):
        comm, day = self._key_phone_step()
        with freeze_time(day):
            wizard = (
                self.env["relance.call.wizard"]
                .with_user(self.other_sales)
                .create(
                    {
                        "partner_id": self.customer.id,
                        "company_id": self.company.id,
                        "communication_id": comm.id,
                        "outcome": "reached",
                    }
                )
            )
            with self.assertRaises(AccessError):
                wizard.action_log()
        self.assertEqual(comm.state, "todo")
        self.assertFalse(self.env["relance.call"].search([]))
