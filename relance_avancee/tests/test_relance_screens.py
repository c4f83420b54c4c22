from datetime import timedelta

from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceScreens(RelanceCommon):
    """Figures an accountant can trust: totals that add what may be added,
    disputed amounts apart from the overdue ones, a run never made early."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing = new_test_user(
            cls.env,
            login="screens_billing",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
        )

    def _open_preview(self, partners):
        Wizard = self.env["relance.preview.wizard"].with_user(self.billing)
        action = Wizard._action_open(partners=partners)
        return Wizard.browse(action["res_id"])

    def _dispute(self, invoice):
        wizard = self.env["relance.dispute.wizard"].create(
            {"move_id": invoice.id, "reason": "late_delivery", "note": "<p>Late</p>"}
        )
        wizard.action_confirm()
        self.assertTrue(invoice.relance_in_dispute)

    # ------------------------------------------------------------------
    # Preview
    # ------------------------------------------------------------------

    def test_preview_header_counts_only_what_will_be_sent(self):
        alpha = self._create_customer("Alpha Ecrans", self.profile_sme)
        beta = self._create_customer("Beta Ecrans", self.profile_sme)
        gamma = self._create_customer("Gamma Ecrans", self.profile_sme)
        self._invoice(alpha, 1000.0, "2026-03-31")
        self._invoice(beta, 2500.0, "2026-03-31")
        self._invoice(gamma, 300.0, "2026-03-31")
        self._unreconciled_payment(gamma, 300.0, "2026-04-01")
        with freeze_time("2026-04-03"):
            wizard = self._open_preview(alpha | beta | gamma)
            reminders = wizard.line_ids.filtered(lambda line: line.kind == "reminder")
            sent = reminders.filtered(lambda line: line.action == "send")
            self.assertEqual(sorted(sent.mapped("amount")), [1000.0, 2500.0])
            # Skipped courtesy notices and the customer to reconcile are not sent.
            not_sent = wizard.line_ids - sent
            self.assertTrue(not_sent)
            self.assertEqual(wizard.amount_total, 3500.0)
            self.assertEqual(wizard.line_count, 2)
            self.assertEqual(wizard.excluded_count, len(not_sent))
            # Each customer's invoices counted once: Alpha 1,000 and Beta 2,500
            # (skipped courtesy notices), Gamma 300 (skipped notice and reminder
            # to reconcile first, the same invoice).
            self.assertEqual(
                set(not_sent.mapped("action")), {"skip", "blocked"}, not_sent
            )
            expected_excluded = 3800.0
            self.assertEqual(wizard.excluded_amount, expected_excluded)
            self.assertIn(f"{len(not_sent)} line(s) not sent", wizard.excluded_summary)
            # Unticking Beta's reminder takes its 2,500 out of the header; the
            # excluded amount counts Beta's invoice once still.
            sent.filtered(lambda line: line.partner_id == beta).include = False
            self.assertEqual(wizard.amount_total, 1000.0)
            self.assertEqual(wizard.line_count, 1)
            self.assertEqual(wizard.excluded_count, len(not_sent) + 1)
            self.assertEqual(wizard.excluded_amount, expected_excluded)
            # A skipped line ticked by hand is still not sent: not in the header.
            not_sent.filtered(lambda line: line.action == "skip")[:1].include = True
            self.assertEqual(wizard.amount_total, 1000.0)

    def test_preview_counts_a_step_sent_by_email_and_sms_once(self):
        risky = self._create_customer("Risque Ecrans", self.profile_risk)
        self._invoice(risky, 200.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            wizard = self._open_preview(risky)
            sent = wizard.line_ids.filtered(
                lambda line: line.kind == "reminder" and line.action == "send"
            )
            self.assertEqual(sorted(sent.mapped("channel")), ["email", "sms"])
            self.assertEqual(wizard.line_count, 2)
            self.assertEqual(wizard.amount_total, 200.0)

    def test_send_with_a_future_date_is_refused(self):
        alpha = self._create_customer("Futur Ecrans", self.profile_sme)
        self._invoice(alpha, 1000.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            wizard = self._open_preview(alpha)
            wizard.date = "2026-04-20"
            wizard.action_refresh()
            self.assertTrue(wizard.date_in_future)
            self.assertTrue(wizard.line_ids.filtered("include"))
            with self.assertRaisesRegex(UserError, "Steps are never sent early"):
                wizard.action_send()
        self.assertFalse(self._history(alpha))
        # Today's date sends.
        with freeze_time("2026-04-03"):
            wizard.date = "2026-04-03"
            self.assertFalse(wizard.date_in_future)
            wizard.action_refresh()
            wizard.action_send()
        self.assertEqual(self._history(alpha, kind="reminder").state, "sent")

    def test_send_now_button_has_no_generic_confirmation_for_a_future_date(self):
        arch = self.env["relance.preview.wizard"].get_view(
            self.env.ref("relance_avancee.relance_preview_wizard_view_form").id
        )["arch"]
        buttons = etree.fromstring(arch).xpath("//footer/button[@name='action_send']")
        self.assertEqual(len(buttons), 2)
        future = [b for b in buttons if b.get("invisible") == "not date_in_future"]
        self.assertEqual(len(future), 1)
        self.assertIsNone(future[0].get("confirm"))

    # ------------------------------------------------------------------
    # Disputed amounts apart
    # ------------------------------------------------------------------

    def test_disputed_amount_apart_in_worklist_and_customer(self):
        # The worklist is a SQL view on the database's date: relative dates.
        today = fields.Date.today()
        customer = self._create_customer("Litige Ecrans", self.profile_sme)
        self._invoice(customer, 1000.0, today - timedelta(days=10))
        disputed = self._invoice(customer, 400.0, today - timedelta(days=50))
        self._invoice(customer, 250.0, today + timedelta(days=20))
        self._dispute(disputed)
        self.env.flush_all()
        rows = (
            self.env["relance.customer.balance"]
            .with_user(self.billing)
            .search_read(
                [("partner_id", "=", customer.id)],
                [
                    "amount_due",
                    "amount_overdue",
                    "amount_disputed",
                    "days_overdue",
                    "overdue_count",
                    "dispute_count",
                    "next_step",
                ],
            )
        )
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual(row["amount_due"], 1650.0)
        self.assertEqual(row["amount_overdue"], 1000.0)
        self.assertEqual(row["amount_disputed"], 400.0)
        self.assertEqual(row["days_overdue"], 10)
        self.assertEqual(row["overdue_count"], 1)
        self.assertEqual(row["dispute_count"], 1)
        self.assertTrue(row["next_step"])

        partner = customer.with_user(self.billing)
        self.assertEqual(partner.relance_total_due, 1650.0)
        self.assertEqual(partner.relance_total_overdue, 1000.0)
        self.assertEqual(partner.relance_total_disputed, 400.0)
        self.assertEqual(partner.relance_oldest_overdue_days, 10)
        # The search agrees with the field.
        Partner = self.env["res.partner"].with_user(self.billing)
        self.assertIn(
            customer, Partner.search([("relance_total_overdue", "=", 1000.0)])
        )
        self.assertNotIn(
            customer, Partner.search([("relance_total_overdue", "=", 1400.0)])
        )
        # The banner reads the overdue amount without the dispute, and says it.
        values = partner._relance_get_banner_values()[customer.id]
        self.assertIn("10 days late", values["headline"])
        self.assertIn("1,000.00", values["headline"])
        self.assertTrue(any("400.00" in w for w in values["warnings"]))

    def test_only_disputed_overdue_is_not_overdue(self):
        today = fields.Date.today()
        customer = self._create_customer("Tout Litige", self.profile_sme)
        disputed = self._invoice(customer, 400.0, today - timedelta(days=30))
        self._dispute(disputed)
        self.env.flush_all()
        row = self.env["relance.customer.balance"].search(
            [("partner_id", "=", customer.id)]
        )
        self.assertRecordValues(
            row,
            [{"amount_overdue": 0.0, "amount_disputed": 400.0, "days_overdue": 0}],
        )
        self.assertEqual(customer.relance_total_overdue, 0.0)
        self.assertEqual(customer.relance_oldest_overdue_days, 0)
        self.assertFalse(customer._relance_get_banner_values())

    # ------------------------------------------------------------------
    # Views: footer sums and column labels
    # ------------------------------------------------------------------

    def _list_fields(self, model, xmlid, path="//list//field", user=None):
        view = self.env.ref(xmlid)
        env = self.env(user=user or self.billing)
        arch = env[model].get_view(view.id)["arch"]
        return {node.get("name"): node for node in etree.fromstring(arch).xpath(path)}

    def test_no_footer_sum_where_adding_means_nothing(self):
        comms = self._list_fields(
            "relance.communication", "relance_avancee.relance_communication_view_list"
        )
        self.assertIsNone(comms["amount_total"].get("sum"))
        preview = self._list_fields(
            "relance.preview.wizard",
            "relance_avancee.relance_preview_wizard_view_form",
            "//field[@name='line_ids']/list/field",
        )
        self.assertIsNone(preview["amount"].get("sum"))
        kpi = self._list_fields(
            "relance.kpi.level",
            "relance_avancee.relance_kpi_level_view_list",
            user=self.env.ref("base.user_admin"),
        )
        self.assertIsNone(kpi["amount"].get("sum"))
        # Nor in grouped lists: delays and communications' amounts are not added.
        self.assertFalse(self.env["relance.level"]._fields["delay"].aggregator)
        self.assertFalse(
            self.env["relance.communication"]._fields["amount_total"].aggregator
        )
        groups = self.env["relance.level"].read_group(
            [("profile_id", "=", self.profile_sme.id)], ["delay"], ["profile_id"]
        )
        self.assertNotIn("delay", groups[0])
        # The worklist keeps its sums: one row per customer, each receivable once.
        worklist = self._list_fields(
            "relance.customer.balance",
            "relance_avancee.relance_customer_balance_view_list",
        )
        self.assertTrue(worklist["amount_overdue"].get("sum"))
        self.assertTrue(worklist["amount_disputed"].get("sum"))

    def test_worklist_columns_are_short_and_explained(self):
        worklist = self._list_fields(
            "relance.customer.balance",
            "relance_avancee.relance_customer_balance_view_list",
        )
        self.assertIn("next_step", worklist)
        fields_info = self.env["relance.customer.balance"].fields_get(
            ["days_overdue", "last_reminder_date", "amount_overdue", "next_step"],
            ["string", "help"],
        )
        for name, info in fields_info.items():
            self.assertLessEqual(len(info["string"]), 12, name)
            self.assertTrue(info.get("help"), name)
        self.assertIn("red", fields_info["days_overdue"]["help"])
        profile = self._list_fields(
            "relance.profile",
            "relance_avancee.relance_profile_view_form",
            "//field[@name='level_ids']/list/field",
        )
        self.assertEqual(profile["delay"].get("string"), "Day")
        self.assertTrue(self.env["relance.level"]._fields["delay"].help)
