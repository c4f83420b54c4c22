from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceCustomerBalance(RelanceCommon):
    """The collector's worklist, sortable by overdue amount and by age.

    The worklist is a SQL view computed against the database's current date,
    so these tests use dates relative to today instead of freezing time.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.today()
        cls.today = today
        cls.big = cls._create_customer("Gros Retard", cls.profile_risk)
        cls.old = cls._create_customer("Vieux Retard", cls.profile_sme)
        cls.fine = cls._create_customer("A Jour", cls.profile_sme)
        cls._invoice(cls.big, 5000.0, today - timedelta(days=11))
        cls._invoice(cls.big, 700.0, today + timedelta(days=40))
        cls._invoice(cls.old, 300.0, today - timedelta(days=106))
        cls._invoice(cls.fine, 900.0, today + timedelta(days=91))

    def _rows(self, order):
        return self.env["relance.customer.balance"].search(
            [("partner_id", "in", (self.big | self.old | self.fine).ids)], order=order
        )

    def test_sorted_by_overdue_amount_and_by_age(self):
        by_amount = self._rows("amount_overdue desc")
        by_age = self._rows("days_overdue desc")
        self.assertEqual(by_amount.partner_id, self.big | self.old | self.fine)
        self.assertEqual(by_age[0].partner_id, self.old)
        self.assertRecordValues(
            by_amount,
            [
                {
                    "amount_due": 5700.0,
                    "amount_overdue": 5000.0,
                    "days_overdue": 11,
                    "overdue_count": 1,
                    "profile_id": self.profile_risk.id,
                },
                {
                    "amount_due": 300.0,
                    "amount_overdue": 300.0,
                    "days_overdue": 106,
                    "overdue_count": 1,
                    "profile_id": self.profile_sme.id,
                },
                {
                    "amount_due": 900.0,
                    "amount_overdue": 0.0,
                    "days_overdue": 0,
                    "overdue_count": 0,
                    "profile_id": self.profile_sme.id,
                },
            ],
        )

    def test_last_reminder_and_partner_summary(self):
        self._run(self.today, self.old)
        row = self._rows("amount_overdue desc")[1]
        self.assertEqual(row.partner_id, self.old)
        self.assertEqual(row.last_reminder_date, self.today)
        self.assertEqual(self.old.relance_total_overdue, 300.0)
        self.assertEqual(self.old.relance_oldest_overdue_days, 106)
        self.assertEqual(self.old.relance_last_date, self.today)
        self.assertEqual(self.old.relance_last_level_id.delay, 3)
        # The skipped courtesy notice and the first reminder.
        self.assertEqual(self.old.relance_history_count, 2)
        # First reminder sent today; the second one follows the scenario.
        self.assertIn("Second reminder", self.old.relance_next_step)
        customers = self.big | self.old | self.fine
        overdue = self.env["res.partner"].search(
            [("relance_total_overdue", ">", 0), ("id", "in", customers.ids)]
        )
        self.assertEqual(overdue, self.big | self.old)
        not_overdue = self.env["res.partner"].search(
            [("relance_total_overdue", "=", 0), ("id", "in", customers.ids)]
        )
        self.assertEqual(not_overdue, self.fine)

    def test_other_company_user_sees_no_row(self):
        other = self.setup_other_company()["company"]
        user = new_test_user(
            self.env,
            login="collector_b",
            groups="base.group_user,relance_avancee.group_relance_user",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        rows = self.env["relance.customer.balance"].with_user(user).search([])
        self.assertFalse(rows.filtered(lambda r: r.company_id == self.company))
