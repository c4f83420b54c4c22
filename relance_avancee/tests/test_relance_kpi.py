from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .common import RelanceCommon

MANAGER_GROUPS = "base.group_user,relance_avancee.group_relance_manager"
TODAY = "2025-07-31"


@tagged("post_install", "-at_install")
class TestRelanceKpi(RelanceCommon):
    """Manager KPIs on a known ledger: invoices with known amounts and due
    dates, paid at known dates, reminded at known dates. Every figure is
    checked against the arithmetic written next to it.

    Period of the dashboard: 2025-04-01 → 2025-06-30 (91 days); today is
    2025-07-31. No tax: an invoice's total is its amount.

    ====  ========  ======  ==========  ==========  ===========================
    inv   customer  amount  date        due         payments
    ====  ========  ======  ==========  ==========  ===========================
    inv1  Xeno      1000    2025-02-01  2025-03-03  1000 on 04-20
    inv2  Xeno      2000    2025-03-01  2025-03-31  500 on 05-10
    inv3  Yak       4000    2025-01-15  2025-02-14  1000 on 03-15
    inv4  Yak       3000    2025-04-15  2025-05-15  1000 on 07-05
    inv5  Xeno      1200    2025-05-20  2025-06-19
    inv6  Xeno      800     2025-06-10  2025-07-10
    inv7  Yak       600     2025-03-20  2025-04-19  600 on 07-02
    inv8  Xeno      900     2025-04-05  2025-05-05  900 on 05-12
    cn    Xeno      -200    2025-06-15  2025-06-15  (credit note, open)
    ====  ========  ======  ==========  ==========  ===========================

    Xeno: small-business profile, salesperson Sam. Yak: at-risk profile.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = new_test_user(
            cls.env,
            login="kpi_sam",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        cls.manager = new_test_user(
            cls.env,
            login="kpi_manager",
            groups=MANAGER_GROUPS,
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        cls.xeno = cls._create_customer(
            "Xeno", cls.profile_sme, user_id=cls.salesperson.id
        )
        cls.yak = cls._create_customer("Yak", cls.profile_risk)
        with freeze_time(TODAY):
            inv = {}
            inv[1] = cls._invoice(cls.xeno, 1000.0, "2025-03-03", "2025-02-01")
            inv[2] = cls._invoice(cls.xeno, 2000.0, "2025-03-31", "2025-03-01")
            inv[3] = cls._invoice(cls.yak, 4000.0, "2025-02-14", "2025-01-15")
            inv[4] = cls._invoice(cls.yak, 3000.0, "2025-05-15", "2025-04-15")
            inv[5] = cls._invoice(cls.xeno, 1200.0, "2025-06-19", "2025-05-20")
            inv[6] = cls._invoice(cls.xeno, 800.0, "2025-07-10", "2025-06-10")
            inv[7] = cls._invoice(cls.yak, 600.0, "2025-04-19", "2025-03-20")
            inv[8] = cls._invoice(cls.xeno, 900.0, "2025-05-05", "2025-04-05")
            cls._refund(cls.xeno, 200.0, "2025-06-15")
            cls._pay(inv[1], "2025-04-20")
            cls._pay(inv[2], "2025-05-10", 500.0)
            cls._pay(inv[3], "2025-03-15", 1000.0)
            cls._pay(inv[4], "2025-07-05", 1000.0)
            cls._pay(inv[7], "2025-07-02")
            cls._pay(inv[8], "2025-05-12")
        cls.inv = inv
        cls.sme_1, cls.sme_2 = cls.profile_sme.level_ids.sorted(
            lambda level: (level.sequence, level.id)
        )[:2]
        cls.risk_1 = cls.profile_risk.level_ids.sorted(
            lambda level: (level.sequence, level.id)
        )[0]
        # Steps sent (paid within 15 days after the step?):
        cls._step(inv[1], cls.sme_1, "2025-04-10")  # paid 04-20: 10 days, yes
        cls._step(inv[2], cls.sme_1, "2025-04-05")  # partly paid only: no
        cls._step(inv[8], cls.sme_1, "2025-05-10")  # paid 05-12: 2 days, yes
        cls._step(inv[1], cls.sme_2, "2025-04-01")  # paid 04-20: 19 days, no
        cls._step(inv[6], cls.sme_2, "2025-07-20")  # after the period; unpaid
        cls._step(inv[3], cls.risk_1, "2025-04-15")  # unpaid: no
        cls._step(inv[4], cls.risk_1, "2025-05-20")  # partly paid only: no
        cls._step(inv[7], cls.risk_1, "2025-06-20")  # paid 07-02: 12 days, yes
        # Not steps sent: a thank-you and a skipped step are not counted.
        cls._step(inv[1], False, "2025-04-21", kind="thanks")
        cls._step(inv[8], cls.sme_2, "2025-05-20", state="skipped")

    @classmethod
    def _refund(cls, partner, amount, day):
        """A posted credit note dated and due on ``day``."""
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_date_due": day,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Refund",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        return refund

    @classmethod
    def _step(cls, move, level, day, kind=None, state="sent"):
        if kind is None:
            kind = "courtesy" if level.delay < 0 else "reminder"
        return cls.env["relance.history"].create(
            {
                "company_id": cls.company.id,
                "partner_id": move.commercial_partner_id.id,
                "move_id": move.id,
                "level_id": level and level.id,
                "profile_id": level and level.profile_id.id,
                "kind": kind,
                "channel": level.channel if level else "email",
                "state": state,
                "date": day,
            }
        )

    @staticmethod
    def _bucket(days_late):
        for limit, bucket in ((0, "0_not_due"), (30, "1_30"), (60, "31_60")):
            if days_late <= limit:
                return bucket
        return "61_90" if days_late <= 90 else "91_plus"

    def _dashboard(self, user=None, companies=None, **values):
        Dashboard = self.env["relance.kpi.dashboard"].with_user(user or self.manager)
        if companies:
            Dashboard = Dashboard.with_context(allowed_company_ids=companies.ids)
        return Dashboard.create(
            {
                "company_id": self.company.id,
                "date_from": "2025-04-01",
                "date_to": "2025-06-30",
                **values,
            }
        )

    @freeze_time(TODAY)
    def test_dashboard_figures(self):
        dashboard = self._dashboard()
        # Open at 06-30 (later payments of inv4 and inv7 ignored), days late:
        # inv2 1500 (91 d), inv3 3000 (136 d), inv4 3000 (46 d), inv5 1200
        # (11 d), inv6 800 (not due), inv7 600 (72 d), cn -200 (15 d).
        self.assertRecordValues(
            dashboard,
            [
                {
                    "aged_not_due": 800.0,
                    "aged_1_30": 1000.0,  # 1200 - 200
                    "aged_31_60": 3000.0,
                    "aged_61_90": 600.0,
                    "aged_91_plus": 4500.0,  # 1500 + 3000
                    "receivable_amount": 9900.0,
                    # inv4 + inv5 + inv6 + inv8 - cn = 3000+1200+800+900-200
                    "sales_amount": 5700.0,
                    "overdue_amount": 9300.0,  # 1500+3000+3000+1200+600
                    # Overdue at 04-01: inv1 1000 + inv2 2000 + inv3 3000;
                    # paid in the period: inv1 1000 (04-20) + inv2 500 (05-10).
                    "recovery_base": 6000.0,
                    "recovered_amount": 1500.0,
                    "recovery_rate": 25.0,
                }
            ],
        )
        # 9900 / 5700 × 91
        self.assertEqual(dashboard.dso, round(9900 / 5700 * 91, 2))  # 158.05
        # (1500×91 + 3000×136 + 3000×46 + 1200×11 + 600×72) / 9300
        # = 738900 / 9300
        self.assertEqual(dashboard.avg_days_late, round(738900 / 9300, 2))  # 79.45

    @freeze_time(TODAY)
    def test_dashboard_share_paid_per_step(self):
        dashboard = self._dashboard()
        # Steps sent in the period, paid within 15 days after the step:
        # sme_1: inv1 yes, inv2 no, inv8 yes; sme_2: inv1 no (19 days);
        # risk_1: inv3 no, inv4 no, inv7 yes.
        self.assertRecordValues(
            dashboard.level_line_ids,
            [
                {
                    "level_id": self.sme_1.id,
                    "sent_count": 3,
                    "pending_count": 0,
                    "paid_count": 2,
                },
                {
                    "level_id": self.sme_2.id,
                    "sent_count": 1,
                    "pending_count": 0,
                    "paid_count": 0,
                },
                {
                    "level_id": self.risk_1.id,
                    "sent_count": 3,
                    "pending_count": 0,
                    "paid_count": 1,
                },
            ],
        )
        self.assertEqual(dashboard.level_line_ids[0].share, round(200 / 3, 2))
        self.assertEqual(dashboard.level_line_ids[2].share, round(100 / 3, 2))
        # July: inv6 reminded 07-20, unpaid, its 15 days still running at
        # 07-31: no verdict yet.
        july = self._dashboard(date_from="2025-07-01", date_to="2025-07-31")
        self.assertRecordValues(
            july.level_line_ids,
            [
                {
                    "level_id": self.sme_2.id,
                    "sent_count": 1,
                    "pending_count": 1,
                    "paid_count": 0,
                    "share": 0.0,
                }
            ],
        )
        # A 20-day window: sme_2's inv1 (19 days) becomes paid in time.
        self.company.relance_kpi_paid_days = 20
        twenty = self._dashboard()
        self.assertEqual(twenty.level_line_ids[1].paid_count, 1)
        self.assertEqual(twenty.level_line_ids[1].share, 100.0)

    @freeze_time(TODAY)
    def test_dashboard_by_profile_and_salesperson(self):
        sme = self._dashboard(profile_id=self.profile_sme.id)
        sam = self._dashboard(salesperson_id=self.salesperson.id)
        for dashboard in (sme, sam):
            # Xeno only: open inv2 1500 + inv5 1200 + inv6 800 - cn 200;
            # sales inv5 1200 + inv6 800 + inv8 900 - cn 200.
            self.assertRecordValues(
                dashboard,
                [
                    {
                        "receivable_amount": 3300.0,
                        "sales_amount": 2700.0,
                        "overdue_amount": 2700.0,  # inv2 1500 + inv5 1200
                        "recovery_base": 3000.0,  # inv1 1000 + inv2 2000
                        "recovered_amount": 1500.0,
                        "recovery_rate": 50.0,
                        "aged_91_plus": 1500.0,
                        "aged_31_60": 0.0,
                    }
                ],
            )
            self.assertEqual(dashboard.dso, round(3300 / 2700 * 91, 2))  # 111.22
            # (1500×91 + 1200×11) / 2700
            self.assertEqual(dashboard.avg_days_late, round(149700 / 2700, 2))
            self.assertEqual(dashboard.level_line_ids.level_id, self.sme_1 | self.sme_2)
        risk = self._dashboard(profile_id=self.profile_risk.id)
        # Yak: open inv3 3000 + inv4 3000 + inv7 600; sales inv4 3000.
        self.assertRecordValues(
            risk,
            [
                {
                    "receivable_amount": 6600.0,
                    "sales_amount": 3000.0,
                    "recovery_base": 3000.0,
                    "recovered_amount": 0.0,
                    "recovery_rate": 0.0,
                }
            ],
        )
        self.assertEqual(risk.dso, round(6600 / 3000 * 91, 2))  # 200.2
        self.assertEqual(risk.level_line_ids.level_id, self.risk_1)
        nobody = self._dashboard(collector_id=self.manager.id)
        self.assertEqual(nobody.receivable_amount, 0.0)
        self.assertFalse(nobody.level_line_ids)

    @freeze_time(TODAY)
    def test_manager_opens_the_dashboard(self):
        Dashboard = self.env["relance.kpi.dashboard"].with_user(self.manager)
        with Form(Dashboard) as form:
            # Default: three full months ending today.
            self.assertEqual(form.date_from, date(2025, 5, 1))
            self.assertEqual(form.date_to, date(2025, 7, 31))
            form.date_from = date(2025, 4, 1)
            form.date_to = date(2025, 6, 30)
            self.assertEqual(form.receivable_amount, 9900.0)
            self.assertEqual(form.recovery_rate, 25.0)
            self.assertEqual(len(form.level_line_ids), 3)
        dashboard = form.record
        self.assertEqual(dashboard.sales_amount, 5700.0)
        aged = dashboard.action_open_aged()
        self.assertEqual(aged["res_model"], "relance.kpi.aged")
        self.assertIn(("company_id", "=", self.company.id), aged["domain"])
        dashboard.profile_id = self.profile_sme
        steps = dashboard.action_open_steps()
        self.assertEqual(steps["res_model"], "relance.kpi.level")
        self.assertIn(("profile_id", "=", self.profile_sme.id), steps["domain"])
        self.assertIn(("date", ">=", date(2025, 4, 1)), steps["domain"])
        # The step rows of the period, as the action shows them.
        rows = (
            self.env["relance.kpi.level"]
            .with_user(self.manager)
            .search(steps["domain"])
        )
        self.assertEqual(len(rows), 4)
        menu = self.env.ref("relance_avancee.relance_kpi_dashboard_menu")
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(self.manager)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.with_user(self.collector)._visible_menu_ids())

    def test_report_views_load_and_group(self):
        customers = self.xeno | self.yak
        for model in ("relance.kpi.aged", "relance.kpi.level"):
            views = (
                self.env[model]
                .with_user(self.manager)
                .get_views(
                    [(False, v) for v in ("pivot", "graph", "list", "search")],
                    {"load_filters": True, "toolbar": True},
                )
            )
            self.assertEqual(set(views["views"]), {"pivot", "graph", "list", "search"})
        self.env["relance.kpi.dashboard"].with_user(self.manager).get_views(
            [(False, "form")]
        )
        # The aged view is the balance today (the real date: SQL views cannot
        # follow freeze_time), after every payment: inv2 1500, inv3 3000,
        # inv4 2000, inv5 1200, inv6 800, cn -200; inv7 was paid 07-02.
        Aged = self.env["relance.kpi.aged"].with_user(self.manager)
        groups = Aged.read_group(
            [("partner_id", "in", customers.ids)],
            ["amount_residual:sum", "days_late:max"],
            ["profile_id", "salesperson_id"],
            lazy=False,
        )
        by_key = {
            (g["profile_id"][0], g["salesperson_id"] and g["salesperson_id"][0]): g
            for g in groups
        }
        self.assertEqual(
            by_key[self.profile_sme.id, self.salesperson.id]["amount_residual"],
            3300.0,
        )
        self.assertEqual(by_key[self.profile_risk.id, False]["amount_residual"], 5000.0)
        # inv3, due 2025-02-14, is the oldest.
        self.assertEqual(
            by_key[self.profile_risk.id, False]["days_late"],
            (date.today() - date(2025, 2, 14)).days,
        )
        rows = Aged.search([("partner_id", "in", customers.ids)])
        self.assertEqual(len(rows), 6)
        # The list view reads the invoices' names, though the manager has no
        # accounting rights.
        listed = Aged.web_search_read(
            [("partner_id", "in", customers.ids)],
            {
                "move_id": {"fields": {"display_name": {}}},
                "partner_id": {"fields": {"display_name": {}}},
                "bucket": {},
                "amount_residual": {},
            },
        )
        self.assertEqual(listed["length"], 6)
        by_move = Aged.read_group(
            [("partner_id", "in", customers.ids)],
            ["amount_residual:sum"],
            ["move_id", "company_id"],
            lazy=False,
        )
        self.assertEqual(len(by_move), 6)
        for row in rows:
            self.assertEqual(row.days_late, (date.today() - row.date_maturity).days)
            self.assertEqual(row.bucket, self._bucket(row.days_late))
        # Step effectiveness by level: every window is closed today.
        # sme_1 2/3, sme_2 0/2 (inv1 19 days; inv6 unpaid), risk_1 1/3.
        Level = self.env["relance.kpi.level"].with_user(self.manager)
        groups = Level.read_group(
            [("partner_id", "in", customers.ids)],
            ["paid_within:avg", "days_to_payment:avg"],
            ["level_id"],
            lazy=False,
        )
        share = {g["level_id"][0]: g["paid_within"] for g in groups}
        self.assertAlmostEqual(share[self.sme_1.id], 200 / 3)
        self.assertEqual(share[self.sme_2.id], 0.0)
        self.assertAlmostEqual(share[self.risk_1.id], 100 / 3)
        count = {g["level_id"][0]: g["__count"] for g in groups}
        self.assertEqual(count, {self.sme_1.id: 3, self.sme_2.id: 2, self.risk_1.id: 3})
        by_tone = Level.read_group(
            [("partner_id", "in", customers.ids)], ["paid_within:avg"], ["tone"]
        )
        self.assertTrue(by_tone)

    def test_reports_are_for_managers_only(self):
        billing = new_test_user(
            self.env,
            login="kpi_billing",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=self.company.ids,
        )
        for user in (billing, self.salesperson, self.collector):
            for model in ("relance.kpi.aged", "relance.kpi.level"):
                with self.assertRaises(AccessError, msg=f"{user.login} {model}"):
                    self.env[model].with_user(user).search([])
            with self.assertRaises(AccessError):
                self._dashboard(user=user)

    @freeze_time(TODAY)
    def test_other_company_figures_stay_out(self):
        other = self.setup_other_company()["company"]
        zed = self._create_customer("Zed")
        move = (
            self.env["account.move"]
            .with_company(other)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": zed.id,
                    "invoice_date": "2025-05-01",
                    "invoice_date_due": "2025-05-31",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Services",
                                "quantity": 1,
                                "price_unit": 7000.0,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        self.assertEqual(move.company_id, other)
        # A manager of both companies sees company B's invoice in B only.
        both = new_test_user(
            self.env,
            login="kpi_manager_ab",
            groups=MANAGER_GROUPS,
            company_id=self.company.id,
            company_ids=(self.company | other).ids,
        )
        companies = self.company | other
        dashboard_b = self._dashboard(both, companies, company_id=other.id)
        self.assertEqual(dashboard_b.receivable_amount, 7000.0)
        self.assertEqual(dashboard_b.sales_amount, 7000.0)
        self.assertEqual(self._dashboard(both, companies).receivable_amount, 9900.0)
        # A manager of company A only: no row, no figure of company B.
        aged = self.env["relance.kpi.aged"].with_user(self.manager)
        self.assertTrue(aged.search([]))
        self.assertFalse(aged.search([("company_id", "=", other.id)]))
        self.assertFalse(aged.search([("partner_id", "=", zed.id)]))
        self.assertEqual(self._dashboard().receivable_amount, 9900.0)
        with self.assertRaises(AccessError):
            self._dashboard(company_id=other.id)
