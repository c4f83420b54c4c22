from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import RelanceCommon


class RelanceTourCase(RelanceCommon, HttpCase):
    """Tours in real Chromium (a tour that did not run fails the session: see
    the repository's conftest.py)."""

    def _start_tour(self, url, tour, login):
        self.start_tour(url, tour, login=login, timeout=120)


@tagged("post_install", "-at_install")
class TestRelanceBannerTour(RelanceTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = new_test_user(
            cls.env,
            login="relance_tour_sales",
            groups="base.group_user",
            company_id=cls.company.id,
        )
        other = new_test_user(
            cls.env,
            login="relance_tour_other",
            groups="base.group_user",
            company_id=cls.company.id,
        )
        today = fields.Date.today()
        cls.mine = cls._create_customer(
            "Client Tour Un", cls.profile_sme, user_id=cls.salesperson.id
        )
        cls.theirs = cls._create_customer(
            "Client Tour Deux", cls.profile_sme, user_id=other.id
        )
        for customer in cls.mine | cls.theirs:
            cls._invoice(customer, 4321.0, today - timedelta(days=20))
        cls.engine._run(cls.company, today - timedelta(days=15))

    def test_salesperson_sees_banner_on_own_customer(self):
        self._start_tour(
            f"/odoo/res.partner/{self.mine.id}",
            "relance_banner_own_customer",
            "relance_tour_sales",
        )

    def test_salesperson_sees_no_banner_on_another_customer(self):
        self._start_tour(
            f"/odoo/res.partner/{self.theirs.id}",
            "relance_banner_other_customer",
            "relance_tour_sales",
        )


@tagged("post_install", "-at_install")
class TestRelanceKpiTour(RelanceTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(
            cls.env,
            login="relance_tour_manager",
            groups="base.group_user,relance_avancee.group_relance_manager",
            company_id=cls.company.id,
        )
        today = fields.Date.today()
        customer = cls._create_customer("Client KPI", cls.profile_sme)
        cls._invoice(
            customer,
            1000.0,
            today - timedelta(days=10),
            invoice_date=today - timedelta(days=30),
        )

    def test_manager_opens_the_kpi_dashboard(self):
        self._start_tour(
            "/odoo/action-relance_avancee.relance_kpi_dashboard_action",
            "relance_kpi_dashboard",
            "relance_tour_manager",
        )


@tagged("post_install", "-at_install")
class TestRelanceCallTour(RelanceTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector.write({"password": "colette_collector"})
        today = fields.Date.today()
        due = today - timedelta(days=20)
        cls.customer = cls._create_customer("Client Appel", cls.profile_sme)
        cls._invoice(cls.customer, 900.0, due)
        for delay in (3, 12, 18):
            cls.engine._run(cls.company, due + timedelta(days=delay))

    def test_call_done_in_the_chatter_refreshes_the_form(self):
        call = self.env["relance.history"].search(
            [("partner_id", "=", self.customer.id), ("channel", "=", "phone")]
        )
        self.assertEqual(call.state, "todo")
        self._start_tour(
            f"/odoo/res.partner/{self.customer.id}",
            "relance_call_done_refreshes_the_form",
            "colette_collector",
        )
        self.assertEqual(call.state, "sent")
