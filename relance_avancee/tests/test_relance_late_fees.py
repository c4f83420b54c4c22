from datetime import date

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceLateFees(RelanceCommon):
    """Recovery indemnity and late interest (Code de commerce L441-10, D441-5),
    against hand-computed values."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "relance_interest_mode": "legal",
                "relance_interest_margin": 10.0,
                "relance_indemnity_amount": 40.0,
            }
        )
        cls.customer = cls._create_customer("Fees Business", cls.profile_sme)
        cls.billing_user = new_test_user(
            cls.env,
            login="fees_billing",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.manager = new_test_user(
            cls.env,
            login="fees_manager",
            groups="base.group_user,relance_avancee.group_relance_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def _fees(self, move, day):
        return move._relance_get_late_fees(date.fromisoformat(day))[move.id]

    # -- computation -----------------------------------------------------

    def test_half_year_boundary_leap_year(self):
        """2024 is a leap year (366 days); the rate changes on 1 July."""
        move = self._invoice(self.customer, 1000.0, "2024-06-20")
        fees = self._fees(move, "2024-07-10")
        # 21/06–30/06: 10 days at 4.50 + 10 = 14.50 %:
        #   1000 × 14.50 % × 10 / 366 = 3.961749
        # 01/07–10/07: 10 days at 4.25 + 10 = 14.25 %:
        #   1000 × 14.25 % × 10 / 366 = 3.893443
        # total 7.855191 → 7.86
        periods = fees["rate_periods"]
        self.assertEqual(len(periods), 2)
        self.assertEqual(
            (periods[0]["date_from"], periods[0]["date_to"], periods[0]["days"]),
            (date(2024, 6, 21), date(2024, 6, 30), 10),
        )
        self.assertEqual(
            (periods[1]["date_from"], periods[1]["date_to"], periods[1]["days"]),
            (date(2024, 7, 1), date(2024, 7, 10), 10),
        )
        self.assertAlmostEqual(periods[0]["rate"], 14.50)
        self.assertAlmostEqual(periods[1]["rate"], 14.25)
        self.assertAlmostEqual(periods[0]["amount"], 3.961749, places=5)
        self.assertAlmostEqual(periods[1]["amount"], 3.893443, places=5)
        self.assertEqual(fees["interest"], 7.86)
        self.assertEqual(fees["indemnity"], 40.0)
        self.assertFalse(fees["provisional"])
        self.assertTrue(fees["late"])

    def test_partial_payment_changes_base(self):
        """A partial payment lowers the base from its date; the indemnity
        stays whole."""
        move = self._invoice(self.customer, 1000.0, "2024-06-20")
        self._pay(move, "2024-07-05", amount=400.0)
        fees = self._fees(move, "2024-07-10")
        # 21/06–30/06: 1000 × 14.50 % × 10 / 366 = 3.961749
        # 01/07–04/07: 1000 × 14.25 % ×  4 / 366 = 1.557377
        # 05/07–10/07:  600 × 14.25 % ×  6 / 366 = 1.401639
        # total 6.920765 → 6.92
        bases = [(p["date_from"], p["days"], p["base"]) for p in fees["rate_periods"]]
        self.assertEqual(
            bases,
            [
                (date(2024, 6, 21), 10, 1000.0),
                (date(2024, 7, 1), 4, 1000.0),
                (date(2024, 7, 5), 6, 600.0),
            ],
        )
        self.assertEqual(fees["interest"], 6.92)
        self.assertEqual(fees["indemnity"], 40.0)

    def test_non_leap_year(self):
        """2025 counts 365 days, H1 rate 3.15 + 10 = 13.15 %."""
        move = self._invoice(self.customer, 1000.0, "2025-03-10")
        fees = self._fees(move, "2025-04-09")
        # 11/03–09/04: 21 + 9 = 30 days, 1000 × 13.15 % × 30 / 365 = 10.808219
        # → 10.81
        self.assertEqual(len(fees["rate_periods"]), 1)
        self.assertEqual(fees["rate_periods"][0]["days"], 30)
        self.assertEqual(fees["interest"], 10.81)

    def test_year_boundary_changes_day_count(self):
        """Days of 2024 count 1/366, days of 2025 count 1/365."""
        move = self._invoice(self.customer, 1000.0, "2024-12-21")
        fees = self._fees(move, "2025-01-10")
        # 22/12–31/12/2024: 1000 × 14.25 % × 10 / 366 = 3.893443
        # 01/01–10/01/2025: 1000 × 13.15 % × 10 / 365 = 3.602740
        # total 7.496183 → 7.50
        self.assertEqual(len(fees["rate_periods"]), 2)
        self.assertEqual(fees["interest"], 7.50)

    def test_contractual_rate(self):
        self.company.write(
            {
                "relance_interest_mode": "contractual",
                "relance_interest_rate_contractual": 12.0,
            }
        )
        move = self._invoice(self.customer, 1000.0, "2024-06-20")
        fees = self._fees(move, "2024-07-10")
        # 20 days at 12 %: 1000 × 12 % × 20 / 366 = 6.557377 → 6.56
        self.assertEqual(fees["interest"], 6.56)
        self.assertTrue(all(p["rate"] == 12.0 for p in fees["rate_periods"]))

    def test_mode_none(self):
        self.company.relance_interest_mode = "none"
        move = self._invoice(self.customer, 1000.0, "2024-06-20")
        fees = self._fees(move, "2024-07-10")
        self.assertEqual(fees["interest"], 0.0)
        self.assertEqual(fees["rate_periods"], [])
        self.assertEqual(fees["indemnity"], 40.0)

    def test_consumer_owes_interest_not_indemnity(self):
        consumer = self._create_customer("Jean Dupont", is_company=False, vat=False)
        move = self._invoice(consumer, 1000.0, "2024-06-20")
        fees = self._fees(move, "2024-07-10")
        self.assertEqual(fees["indemnity"], 0.0)
        self.assertEqual(fees["interest"], 7.86)

    def test_not_late_or_paid(self):
        """Not due yet, or paid by the date: no fees."""
        move = self._invoice(self.customer, 1000.0, "2024-06-20")
        self.assertFalse(self._fees(move, "2024-06-20")["late"])
        self.assertEqual(self._fees(move, "2024-06-20")["indemnity"], 0.0)
        self._pay(move, "2024-07-01")
        fees = self._fees(move, "2024-07-10")
        self.assertFalse(fees["late"])
        self.assertEqual((fees["indemnity"], fees["interest"]), (0.0, 0.0))
        # Seen from before the payment, it was late.
        self.assertTrue(self._fees(move, "2024-06-25")["late"])

    def test_missing_half_year_is_provisional(self):
        """2026 H2 has no rate: the latest known one (2026 H1) stands in."""
        move = self._invoice(self.customer, 1000.0, "2026-06-30")
        fees = self._fees(move, "2026-07-15")
        # 01/07–15/07: 15 days at 2.15 + 10 = 12.15 %:
        #   1000 × 12.15 % × 15 / 365 = 4.993151 → 4.99
        self.assertEqual(fees["interest"], 4.99)
        self.assertTrue(fees["provisional"])
        self.assertTrue(fees["rate_periods"][0]["provisional"])
        rate = self.company._relance_get_interest_rate(date(2026, 7, 15))
        self.assertEqual((rate["ecb_rate"], rate["provisional"]), (2.15, True))
        rate = self.company._relance_get_interest_rate(date(2026, 3, 1))
        self.assertEqual((rate["rate"], rate["provisional"]), (12.15, False))
        with freeze_time("2026-07-15"):
            settings = self.env["res.config.settings"].create({})
            self.assertTrue(settings.relance_interest_rate_warning)
        self.env["relance.interest.rate"].create(
            {"date_start": "2026-07-01", "ecb_rate": 2.0}
        )
        self.assertFalse(self._fees(move, "2026-07-15")["provisional"])
        with freeze_time("2026-07-15"):
            settings = self.env["res.config.settings"].create({})
            self.assertFalse(settings.relance_interest_rate_warning)

    def test_empty_rate_table_raises(self):
        self.env["relance.interest.rate"].search([]).unlink()
        move = self._invoice(self.customer, 1000.0, "2024-06-20")
        with self.assertRaises(UserError):
            self._fees(move, "2024-07-10")

    def test_query_count_does_not_grow(self):
        """One read of lines, reconciliations and rates, whatever the number
        of invoices."""

        def late_invoices(partners):
            moves = self.env["account.move"].search(
                [("partner_id", "in", partners.ids)]
            )
            self._pay(moves[0], "2026-04-10", amount=50.0)
            return moves

        def count_queries(moves):
            self.env.invalidate_all()
            moves = moves.browse(moves.ids)
            before = self.env.cr.sql_log_count
            fees = moves._relance_get_late_fees(date(2026, 4, 30))
            count = self.env.cr.sql_log_count - before
            self.assertTrue(all(fees[m.id]["interest"] > 0 for m in moves))
            return count

        few = late_invoices(self._create_customers(2, "Few"))
        many = late_invoices(self._create_customers(20, "Many"))
        self.assertEqual(len(many), 20)
        count_queries(few)  # warm the registry caches (access rules)
        self.assertEqual(count_queries(few), count_queries(many))

    # -- invoicing the fees ------------------------------------------------

    @freeze_time("2024-07-10")
    def test_fees_invoiced_once(self):
        first = self._invoice(self.customer, 1000.0, "2024-06-20")
        second = self._invoice(self.customer, 500.0, "2024-07-01")
        not_due = self._invoice(self.customer, 300.0, "2024-07-31")
        Move = self.env["account.move"]
        count = Move.search_count([("relance_is_late_fees", "=", True)])
        action = self.customer.with_user(
            self.billing_user
        ).action_relance_invoice_late_fees()
        fee_move = Move.browse(action["res_id"])
        self.assertEqual(fee_move.state, "posted")
        self.assertEqual(fee_move.move_type, "out_invoice")
        self.assertEqual(fee_move.partner_id, self.customer)
        self.assertEqual(fee_move.currency_id, self.company.currency_id)
        self.assertTrue(fee_move.relance_is_late_fees)
        lines = fee_move.invoice_line_ids.sorted("sequence")
        # first: 40 + 7.86 (see test_half_year_boundary_leap_year)
        # second: 02/07–10/07, 9 days: 500 × 14.25 % × 9 / 366 = 1.752049
        #   → 1.75, and 40
        amounts = {line.name: line.price_subtotal for line in lines}
        self.assertEqual(
            amounts,
            {
                f"Recovery indemnity – {first.name}": 40.0,
                f"Late interest 06/21/2024–07/10/2024 – {first.name}": 7.86,
                f"Recovery indemnity – {second.name}": 40.0,
                f"Late interest 07/02/2024–07/10/2024 – {second.name}": 1.75,
            },
        )
        self.assertEqual(fee_move.amount_total, 89.61)
        self.assertFalse(lines.tax_ids)
        self.assertEqual(
            lines.account_id, fee_move.journal_id.default_account_id, "default"
        )
        self.assertEqual((first | second).relance_fees_move_id, fee_move)
        self.assertFalse(not_due.relance_fees_move_id)
        self.assertIn(
            fee_move.name, self.customer.message_ids[:1].body, "in the chatter"
        )
        # Once per invoice: nothing more to invoice.
        with self.assertRaises(UserError):
            self.customer.with_user(
                self.billing_user
            ).action_relance_invoice_late_fees()
        self.assertEqual(
            Move.search_count([("relance_is_late_fees", "=", True)]), count + 1
        )
        # The fees invoice bears no fees itself.
        self.assertFalse(
            fee_move._relance_get_late_fees(date(2025, 1, 1))[fee_move.id]["late"]
        )

    @freeze_time("2024-07-10")
    def test_fees_account_setting(self):
        account = self.company_data["default_account_revenue"].copy(
            {"code": "758000", "name": "Late fees"}
        )
        self.company.relance_fees_account_id = account
        self._invoice(self.customer, 1000.0, "2024-06-20")
        fee_move = self.customer._relance_invoice_late_fees()
        self.assertEqual(fee_move.invoice_line_ids.account_id, account)

    def _formal_notice(self, move, day):
        level = self.profile_sme._get_sorted_levels().filtered(
            lambda lvl: lvl.channel == "formal_notice"
        )[:1]
        row = self.env["relance.history"].create(
            {
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "move_id": move.id,
                "level_id": level.id,
                "kind": "reminder",
                "channel": "formal_notice",
                "state": "todo",
                "date": day,
                "cycle": move.relance_cycle,
            }
        )
        return self.env["relance.communication"].create(
            {
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "level_id": level.id,
                "profile_id": self.profile_sme.id,
                "channel": "formal_notice",
                "manual": True,
                "date": day,
                "history_ids": [(6, 0, row.ids)],
            }
        )

    @freeze_time("2026-05-15")
    def test_formal_notice_sent_invoices_the_fees_once(self):
        self.profile_sme.invoice_late_fees = True
        move = self._invoice(self.customer, 1000.0, "2026-03-31")
        Move = self.env["account.move"]
        before = Move.search_count([("relance_is_late_fees", "=", True)])
        self._formal_notice(move, "2026-05-15").with_user(
            self.billing_user
        ).action_mark_done()
        # 40.00 + 1,000 × 12.15 % (2.15 + 10) × 45/365 (Apr 1 – May 15)
        # = 14.979 → 14.98: 54.98.
        fee_move = move.relance_fees_move_id
        self.assertTrue(fee_move)
        self.assertEqual(fee_move.amount_total, 54.98)
        # A second formal notice for the same invoice (a new dunning cycle)
        # invoices nothing more, and says so.
        move.relance_cycle = 2
        self._formal_notice(move, "2026-05-15").with_user(
            self.billing_user
        ).action_mark_done()
        self.assertEqual(
            Move.search_count([("relance_is_late_fees", "=", True)]), before + 1
        )
        self.assertIn("Late fees not invoiced", str(self.customer.message_ids[:1].body))

    def test_invoice_fees_hook_follows_profile(self):
        level = self.profile_sme.level_ids[:1]
        self.assertFalse(self.customer._relance_should_invoice_fees(level))
        self.profile_sme.invoice_late_fees = True
        self.assertTrue(self.customer._relance_should_invoice_fees(level))

    # -- the rate table ------------------------------------------------------

    def test_rate_table_constraints(self):
        Rate = self.env["relance.interest.rate"]
        with self.assertRaises(ValidationError):
            Rate.create({"date_start": "2027-03-01", "ecb_rate": 2.0})
        rate = Rate.create({"date_start": "2027-07-01", "ecb_rate": 2.0})
        self.assertEqual(rate.name, "2027 H2")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                Rate.create({"date_start": "2027-07-01", "ecb_rate": 3.0})
        self.assertEqual(
            self.env.ref("relance_avancee.relance_interest_rate_2024_h1").ecb_rate,
            4.50,
        )

    def test_rate_table_access(self):
        rate = self.env.ref("relance_avancee.relance_interest_rate_2025_h2")
        self.assertEqual(rate.with_user(self.billing_user).ecb_rate, 2.15)
        with self.assertRaises(AccessError):
            rate.with_user(self.billing_user).ecb_rate = 3.0
        with self.assertRaises(AccessError):
            self.env["relance.interest.rate"].with_user(self.billing_user).create(
                {"date_start": "2027-01-01", "ecb_rate": 2.0}
            )
        rate.with_user(self.manager).ecb_rate = 2.20
        self.assertEqual(rate.ecb_rate, 2.20)
