from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.relance_avancee.tests.common import RelanceCommon

TODAY = "2026-11-27"


@tagged("post_install", "-at_install")
class TestRelanceSaleBanner(RelanceCommon):
    """The overdue banner on quotations and orders, for the salespeople who
    may see it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own_docs = new_test_user(
            cls.env, login="relance_own_docs", groups="sales_team.group_sale_salesman"
        )
        cls.other_seller = new_test_user(
            cls.env,
            login="relance_other_seller",
            groups="sales_team.group_sale_salesman",
        )
        cls.all_docs = new_test_user(
            cls.env,
            login="relance_all_docs",
            groups="sales_team.group_sale_salesman_all_leads",
        )
        cls.mine = cls._create_customer(
            "Client Vendeur", cls.profile_sme, user_id=cls.own_docs.id
        )
        cls.theirs = cls._create_customer(
            "Client Autre", cls.profile_sme, user_id=cls.other_seller.id
        )
        cls._invoice(cls.mine, 1500.0, "2026-10-27")
        cls._invoice(cls.theirs, 900.0, "2026-11-07")
        cls.order_mine = cls._order(cls.mine, cls.own_docs)
        cls.order_theirs = cls._order(cls.theirs, cls.other_seller)

    @classmethod
    def _order(cls, customer, seller):
        return cls.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "user_id": seller.id,
                "order_line": [
                    Command.create({"product_id": cls.product_a.id, "price_unit": 10})
                ],
            }
        )

    def _banner(self, user, record):
        return str(record.with_user(user).with_company(self.company).relance_banner)

    @freeze_time(TODAY)
    def test_own_documents_salesperson_sees_banner_on_own_quotation(self):
        banner = self._banner(self.own_docs, self.order_mine)
        self.assertIn("1,500.00", banner)
        self.assertIn("31 days late", banner)
        action = self.order_mine.with_user(
            self.own_docs
        ).action_relance_banner_invoices()
        invoices = (
            self.env["account.move"].with_user(self.own_docs).search(action["domain"])
        )
        self.assertEqual(invoices.partner_id, self.mine)

    @freeze_time(TODAY)
    def test_own_documents_salesperson_sees_nothing_of_another_customer(self):
        # Reads the other customer's record (Contacts are shared) but not its
        # receivables.
        other = self.theirs.with_user(self.own_docs).with_company(self.company)
        self.assertEqual(other.relance_total_overdue, 0.0)
        self.assertEqual(self._banner(self.own_docs, self.theirs), "False")

    @freeze_time(TODAY)
    def test_all_documents_salesperson_sees_every_customer(self):
        self.assertIn("900.00", self._banner(self.all_docs, self.order_theirs))
        self.assertIn("1,500.00", self._banner(self.all_docs, self.mine))
        Partner = self.env["res.partner"].with_user(self.all_docs)
        found = Partner.search([("relance_total_overdue", ">", 0)])
        self.assertIn(self.mine, found)
        self.assertIn(self.theirs, found)

    @freeze_time(TODAY)
    def test_sale_order_form_has_the_banner(self):
        arch = (
            self.env["sale.order"]
            .with_user(self.own_docs)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn('name="relance_banner"', arch)
        self.assertIn("action_relance_banner_invoices", arch)
        partner_arch = (
            self.env["res.partner"]
            .with_user(self.own_docs)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        # Sales gives salespeople their customers' invoices: the link is theirs.
        self.assertIn("action_relance_banner_invoices", partner_arch)
