from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .common import RelanceCommon

TODAY = "2026-11-27"


@tagged("post_install", "-at_install")
class TestRelanceSalespersonScope(RelanceCommon):
    """A salesperson (internal user without accounting rights) sees the dunning
    of their own customers and nothing of the others; the accounting team sees
    every customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales_1 = new_test_user(
            cls.env,
            login="relance_sales_1",
            groups="base.group_user,base.group_allow_export",
        )
        cls.sales_2 = new_test_user(
            cls.env, login="relance_sales_2", groups="base.group_user"
        )
        cls.billing = new_test_user(
            cls.env,
            login="relance_billing",
            groups="base.group_user,account.group_account_invoice",
        )
        cls.customer_1 = cls._create_customer(
            "Client Un", cls.profile_sme, user_id=cls.sales_1.id
        )
        cls.customer_2 = cls._create_customer(
            "Client Deux", cls.profile_sme, user_id=cls.sales_2.id
        )
        cls.invoice_1 = cls._invoice(cls.customer_1, 1234.0, "2026-10-28")
        cls.invoice_2 = cls._invoice(cls.customer_2, 4321.0, "2026-10-01")
        for day, customer in (
            ("2026-11-02", cls.customer_1),
            ("2026-10-06", cls.customer_2),
        ):
            with freeze_time(day):
                cls.engine._run(
                    cls.company, fields.Date.to_date(day), partner_ids=customer.ids
                )

    def _as(self, user, records):
        return records.with_user(user).with_company(self.company)

    @freeze_time(TODAY)
    def test_salesperson_sees_own_customer_receivables_and_banner(self):
        customer = self._as(self.sales_1, self.customer_1)
        self.assertTrue(customer.relance_visible)
        self.assertEqual(customer.relance_total_overdue, 1234.0)
        self.assertEqual(customer.relance_oldest_overdue_days, 30)
        self.assertIn("1,234.00", customer.relance_banner)
        self.assertIn("30 days late", customer.relance_banner)
        history = self.env["relance.history"].with_user(self.sales_1).search([])
        self.assertTrue(history)
        self.assertEqual(history.partner_id, self.customer_1)

    @freeze_time(TODAY)
    def test_salesperson_reads_nothing_of_another_customer(self):
        self.assertEqual(
            self.customer_2.with_company(self.company).relance_total_overdue, 4321.0
        )
        other = self._as(self.sales_1, self.customer_2)
        self.assertFalse(other.relance_visible)
        self.assertEqual(other.relance_total_overdue, 0.0)
        self.assertEqual(other.relance_total_due, 0.0)
        self.assertFalse(other.relance_banner)
        self.assertFalse(other.relance_next_step)
        self.assertFalse(other.relance_last_level_id)
        self.assertEqual(other.relance_history_count, 0)
        # Through RPC-style reads and exports.
        Partner = self._as(self.sales_1, self.env["res.partner"])
        [row] = Partner.search_read(
            [("id", "=", self.customer_2.id)],
            ["relance_total_overdue", "relance_total_due", "relance_banner"],
        )
        self.assertEqual(row["relance_total_overdue"], 0.0)
        self.assertEqual(row["relance_total_due"], 0.0)
        self.assertFalse(row["relance_banner"])
        exported = other.export_data(["relance_total_overdue"])["datas"]
        self.assertNotIn("4321", str(exported))

    @freeze_time(TODAY)
    def test_search_on_overdue_finds_only_own_customers(self):
        Partner = self._as(self.sales_1, self.env["res.partner"])
        mine = Partner.search([("relance_total_overdue", ">", 0)])
        self.assertIn(self.customer_1, mine)
        self.assertNotIn(self.customer_2, mine)
        # Not even "= 0" tells whether another salesperson's customer owes.
        self.assertNotIn(
            self.customer_2, Partner.search([("relance_total_overdue", "=", 0)])
        )
        self.assertNotIn(
            self.customer_2, Partner.search([("relance_total_overdue", ">=", 4000)])
        )
        # The accounting team finds both.
        Billing = self._as(self.billing, self.env["res.partner"])
        both = Billing.search([("relance_total_overdue", ">", 0)])
        self.assertIn(self.customer_1, both)
        self.assertIn(self.customer_2, both)

    @freeze_time(TODAY)
    def test_other_customer_history_and_communications_are_refused(self):
        rows = self._history(self.customer_2)
        self.assertTrue(rows)
        History = self.env["relance.history"].with_user(self.sales_1)
        self.assertFalse(History.search([("partner_id", "=", self.customer_2.id)]))
        with self.assertRaises(AccessError):
            rows.with_user(self.sales_1).read(["state"])
        comm = rows.communication_id
        with self.assertRaises(AccessError):
            comm.with_user(self.sales_1).read(["amount_total"])
        with self.assertRaises(AccessError):
            self.env["relance.customer.balance"].with_user(self.sales_1).search([])
        # The accountant reads every customer's history.
        self.assertEqual(
            self.env["relance.history"]
            .with_user(self.billing)
            .search([("partner_id", "=", self.customer_2.id)]),
            rows,
        )

    @freeze_time(TODAY)
    def test_letter_of_another_customer_cannot_be_printed(self):
        Report = self.env["ir.actions.report"].with_user(self.sales_1)
        report = "relance_avancee.action_report_relance_letter"
        with self.assertRaisesRegex(AccessError, "Client Deux"):
            Report._render_qweb_html(report, self.customer_2.ids)
        # Their own customer passes this check (letters are printed by the
        # accounting team, who read the invoices).
        self.env["report.relance_avancee.report_relance_letter"].with_user(
            self.sales_1
        )._check_can_print(self.customer_1)
        html, _type = (
            self.env["ir.actions.report"]
            .with_user(self.billing)
            .with_company(self.company)
            ._render_qweb_html(report, self.customer_2.ids)
        )
        self.assertIn(self.invoice_2.name, str(html))

    @freeze_time(TODAY)
    def test_contact_of_own_customer_shows_the_company_banner(self):
        contact = self.env["res.partner"].create(
            {"name": "Jeanne Compta", "parent_id": self.customer_1.id}
        )
        banner = self._as(self.sales_1, contact).relance_banner
        self.assertIn("1,234.00", banner)

    @freeze_time(TODAY)
    def test_states_cannot_be_forged_by_a_salesperson(self):
        row = self._history(self.customer_1, state="sent")
        comm = row.communication_id
        self.assertTrue(comm)
        with self.assertRaises(AccessError):
            row.with_user(self.sales_1).write({"state": "cancelled"})
        with self.assertRaises(AccessError):
            comm.with_user(self.sales_1).write({"state": "cancelled"})
        dispute = self.env["relance.dispute"].create(
            {"move_id": self.invoice_1.id, "reason": "wrong_goods"}
        )
        with self.assertRaises(AccessError):
            dispute.with_user(self.sales_1).write({"state": "rejected"})
        with self.assertRaises(AccessError):
            dispute.with_user(self.sales_1).action_reject()
        self.assertEqual(dispute.state, "open")
        # Not a task of theirs: the email step is the dunning team's.
        with self.assertRaises(AccessError):
            comm.with_user(self.sales_1).action_cancel()
        self.assertNotEqual(comm.state, "cancelled")


@tagged("post_install", "-at_install")
class TestRelanceSalespersonTasks(RelanceCommon):
    """The key-account profile's steps are tasks of the salesperson: done or
    cancelled by them, without an access error."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales = new_test_user(
            cls.env, login="relance_key_sales", groups="base.group_user"
        )
        cls.other_sales = new_test_user(
            cls.env, login="relance_other_sales", groups="base.group_user"
        )
        cls.customer = cls._create_customer(
            "Grand Compte SA", cls.profile_key, user_id=cls.sales.id
        )
        cls.invoice = cls._invoice(cls.customer, 48000.0, "2026-03-31")

    def _courtesy_task(self):
        with freeze_time("2026-03-26"):
            self._run("2026-03-26", self.customer)
        row = self._history(self.customer, kind="courtesy")
        self.assertEqual(row.state, "todo")
        comm = row.communication_id
        self.assertEqual(comm.user_id, self.sales)
        return row, comm

    def test_salesperson_marks_their_task_done(self):
        row, comm = self._courtesy_task()
        with freeze_time("2026-03-27"):
            comm.with_user(self.sales).action_mark_done()
        self.assertEqual(comm.state, "sent")
        self.assertEqual(row.state, "sent")
        self.assertEqual(str(row.done_date), "2026-03-27")
        self.assertFalse(comm.activity_id)

    def test_salesperson_sends_their_key_account_email(self):
        row, comm = self._courtesy_task()
        self.assertTrue(comm.with_user(self.sales).can_act)
        self.assertFalse(comm.with_user(self.other_sales).can_act)
        comm.with_user(self.sales).action_send()
        self.assertEqual(row.state, "sent")
        mail = self._mails(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertIn(self.invoice.name, mail.body_html)

    def test_salesperson_marks_the_activity_done(self):
        row, comm = self._courtesy_task()
        activity = comm.activity_id
        self.assertEqual(activity.user_id, self.sales)
        activity.with_user(self.sales).action_feedback(feedback="Called, paying")
        self.assertEqual(row.state, "sent")
        self.assertEqual(comm.state, "sent")

    def test_salesperson_cancels_their_task(self):
        row, comm = self._courtesy_task()
        comm.with_user(self.sales).action_cancel()
        self.assertEqual(comm.state, "cancelled")
        self.assertEqual(row.state, "cancelled")
        self.assertIn(self.sales.name, row.reason)
        self.assertFalse(comm.activity_id)

    def test_task_given_to_another_salesperson_is_theirs(self):
        row, comm = self._courtesy_task()
        comm.activity_id.write({"user_id": self.other_sales.id})
        self.assertEqual(comm.user_id, self.other_sales)
        with self.assertRaises(AccessError):
            comm.with_user(self.sales).action_mark_done()
        comm.with_user(self.other_sales).action_mark_done()
        self.assertEqual(row.state, "sent")

    def test_another_salesperson_cannot_touch_the_task(self):
        row, comm = self._courtesy_task()
        with self.assertRaises(AccessError):
            comm.with_user(self.other_sales).action_mark_done()
        with self.assertRaises(AccessError):
            comm.activity_id.with_user(self.other_sales).action_feedback()
        self.assertEqual(row.state, "todo")


@tagged("post_install", "-at_install")
class TestRelanceProfileChoiceKept(RelanceCommon):
    """A profile set by a person is kept: the score moves only the customers
    whose profile follows it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="relance_profile_accountant",
            groups="base.group_user,base.group_partner_manager,"
            "account.group_account_invoice",
        )

    def _pay_first_invoice(self, partner):
        with freeze_time("2026-03-31 12:00:00"):
            invoice = self._invoice(partner, 500.0, "2026-03-31")
            self._pay(invoice, "2026-03-31")
            partner._relance_update_scores(self.company)
        return partner.with_company(self.company)

    def test_customer_created_with_a_profile_keeps_it_after_payment(self):
        partner = (
            self.env["res.partner"]
            .with_user(self.accountant)
            .create(
                {
                    "name": "Risque Choisi SARL",
                    "is_company": True,
                    "relance_profile_id": self.profile_risk.id,
                }
            )
        )
        self.assertFalse(partner.with_company(self.company).relance_profile_auto)
        partner = self._pay_first_invoice(partner.sudo())
        self.assertEqual(partner.relance_score, 100)
        self.assertEqual(partner.relance_profile_id, self.profile_risk)

    def test_profile_written_through_the_api_turns_auto_off(self):
        partner = self._create_customer(
            "Api SARL", self.profile_sme, relance_profile_auto=True
        )
        partner.with_user(self.accountant).write(
            {"relance_profile_id": self.profile_risk.id}
        )
        partner = partner.with_company(self.company)
        self.assertFalse(partner.relance_profile_auto)
        self.assertEqual(
            self._pay_first_invoice(partner).relance_profile_id, self.profile_risk
        )

    def test_profile_imported_turns_auto_off(self):
        result = (
            self.env["res.partner"]
            .with_user(self.accountant)
            .load(
                ["name", "is_company", "relance_profile_id/.id"],
                [["Import SARL", "1", str(self.profile_risk.id)]],
            )
        )
        self.assertFalse(result["messages"], result["messages"])
        partner = (
            self.env["res.partner"].browse(result["ids"]).with_company(self.company)
        )
        self.assertEqual(partner.relance_profile_id, self.profile_risk)
        self.assertFalse(partner.relance_profile_auto)

    def test_profile_chosen_in_the_form_turns_auto_off(self):
        partner = self._create_customer(
            "Form SARL", self.profile_sme, relance_profile_auto=True
        )
        with Form(
            partner.with_user(self.accountant).with_company(self.company)
        ) as form:
            form.relance_profile_id = self.profile_risk
            self.assertFalse(form.relance_profile_auto)
        self.assertFalse(partner.with_company(self.company).relance_profile_auto)

    def test_customer_following_the_score_is_moved(self):
        partner = self._create_customer("Auto SARL", relance_profile_auto=True)
        partner = self._pay_first_invoice(partner)
        self.assertTrue(partner.relance_profile_auto)
        self.assertEqual(partner.relance_score, 100)
        self.assertTrue(partner.relance_profile_id.use_score_range)
        self.assertLessEqual(partner.relance_profile_id.score_min, 100)


@tagged("post_install", "-at_install")
class TestRelanceOverdueBanner(RelanceCommon):
    """The banner's figures are the invoices'."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing = new_test_user(
            cls.env,
            login="relance_banner_billing",
            groups="base.group_user,account.group_account_invoice",
        )
        cls.customer = cls._create_customer("Bannière SAS", cls.profile_sme)
        cls.old = cls._invoice(cls.customer, 1000.0, "2026-10-01")
        cls.recent = cls._invoice(cls.customer, 250.5, "2026-11-17")
        cls.not_due = cls._invoice(cls.customer, 700.0, "2026-12-15")

    @freeze_time(TODAY)
    def test_banner_on_customer_and_invoice_says_amount_age_steps_disputes(self):
        self._run("2026-10-06", self.customer)
        self.env["relance.dispute"].create(
            {"move_id": self.recent.id, "reason": "wrong_goods"}
        )
        for record in (self.customer, self.not_due, self.old):
            banner = str(self._as_billing(record).relance_banner)
            # The disputed 250.50 is apart from the 1,000.00 overdue.
            self.assertIn("1,000.00 overdue", banner, record)
            self.assertIn("250.50 in dispute", banner, record)
            self.assertIn("57 days late", banner)  # 2026-10-01 -> 2026-11-27
            last_step = self.customer.with_company(self.company).relance_last_level_id
            self.assertTrue(last_step)
            self.assertIn(f"Last reminder: {last_step.name}", banner)
            self.assertIn("Next step:", banner)
            self.assertIn("1 open dispute", banner)

    def _as_billing(self, record):
        return record.with_user(self.billing).with_company(self.company)

    @freeze_time(TODAY)
    def test_no_banner_when_nothing_is_overdue(self):
        self._pay(self.old | self.recent, TODAY)
        self.assertFalse(self._as_billing(self.customer).relance_banner)
        self.assertFalse(self._as_billing(self.not_due).relance_banner)

    @freeze_time(TODAY)
    def test_no_banner_on_vendor_bills(self):
        bill = self.init_invoice(
            "in_invoice", partner=self.customer, amounts=[100.0], post=True
        )
        self.assertFalse(self._as_billing(bill).relance_banner)

    @freeze_time(TODAY)
    def test_banner_escapes_the_customer_data(self):
        self.profile_sme.level_ids.write({"name": "<b>Relance</b>"})
        self._run("2026-10-06", self.customer)
        banner = str(self._as_billing(self.customer).relance_banner)
        self.assertIn("&lt;b&gt;Relance&lt;/b&gt;", banner)
        self.assertNotIn("<b>Relance</b>", banner)

    @freeze_time(TODAY)
    def test_banner_links_open_overdue_invoices_and_history(self):
        invoice = self._as_billing(self.not_due)
        action = invoice.action_relance_banner_invoices()
        moves = (
            self.env["account.move"].with_user(self.billing).search(action["domain"])
        )
        self.assertEqual(moves, self.old | self.recent)
        action = invoice.action_relance_banner_history()
        self.assertEqual(action["res_model"], "relance.history")
        self.assertIn(("partner_id", "=", self.customer.id), action["domain"])
