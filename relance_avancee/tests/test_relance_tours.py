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


@tagged("post_install", "-at_install")
class TestRelanceFrenchAccountantTour(RelanceTourCase):
    """A French accountant's day, in the French interface: the worklist, a
    customer's Dunning tab, the preview and its sending, then the day's letters
    printed and confirmed. The tour checks the French labels and the figures
    of the ledger below (see relance_french_accountant_day in
    static/tests/tours/relance_french_tour.js).

    The ledger: a French small business with two invoices due 35 days ago,
    640.00 (200.00 paid) and 395.50, i.e. 835.50 overdue. Its reminders ran
    step by step (first and second reminders, then the phone call, done), so
    today the scenario is at its 30-day steps: the ultimatum email and the
    reminder letter, both for the 835.50."""

    LOGIN = "relance_tour_comptable"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # French active and the addon's terms loaded (menus, field labels,
        # views, shipped steps), as on a French database.
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            ["relance_avancee"], ["fr_FR"], overwrite=True
        )
        cls.accountant = new_test_user(
            cls.env,
            login=cls.LOGIN,
            groups="base.group_user,account.group_account_invoice,"
            "relance_avancee.group_relance_user",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
            lang="fr_FR",
            tz="Europe/Paris",
        )
        cls._create_company_bank_account()
        today = fields.Date.today()
        due = today - timedelta(days=35)
        cls.customer = cls._create_customer(
            "Boulangerie Lefèvre", cls.profile_sme, lang="fr_FR"
        )
        cls.invoices = cls._invoice(cls.customer, 640.0, due) | cls._invoice(
            cls.customer, 395.5, due
        )
        cls._pay(cls.invoices[0], due - timedelta(days=5), amount=200.0)
        for delay in (3, 12, 18):
            cls.engine._run(cls.company, due + timedelta(days=delay))
        call = cls.env["relance.communication"].search(
            [("partner_id", "=", cls.customer.id), ("channel", "=", "phone")]
        )
        call.action_mark_done()
        # ...on the day it was due: the next step keeps the scenario's spacing
        # from the call.
        call.history_ids.write({"done_date": due + timedelta(days=18)})

    def _communications(self, channel):
        return self.env["relance.communication"].search(
            [("partner_id", "=", self.customer.id), ("channel", "=", channel)]
        )

    def test_french_accountant_previews_sends_and_prints(self):
        # The figures the tour reads, from the ledger.
        self.assertEqual(sum(self.invoices.mapped("amount_residual")), 835.5)
        self.assertEqual(self._communications("phone").state, "sent")
        self.assertFalse(self._communications("letter"))
        levels = self.profile_sme._get_sorted_levels()
        ultimatum = levels.filtered(lambda lvl: lvl.channel == "email")[-1:]
        letter = levels.filtered(lambda lvl: lvl.channel == "letter")[:1]
        fr = self.env(context=dict(self.env.context, lang="fr_FR"))
        # The step names the tour reads in French.
        self.assertEqual(ultimatum.with_env(fr).name, "Dernier avis")
        self.assertEqual(letter.with_env(fr).name, "Lettre de relance")

        self._start_tour(
            "/odoo/action-relance_avancee.relance_customer_balance_action",
            "relance_french_accountant_day",
            self.LOGIN,
        )

        # The preview sent the ultimatum, by the accountant, today...
        email = self._communications("email").filtered(
            lambda c: c.level_id == ultimatum
        )
        self.assertEqual(email.state, "sent")
        self.assertEqual(
            email.date,
            fields.Date.context_today(self.accountant.with_context(tz="Europe/Paris")),
        )
        self.assertEqual(email.amount_total, 835.5)
        self.assertIn("Bonjour", str(email.mail_message_id.body))
        # ...and the letter, printed in one batch and confirmed, is sent.
        letter_comm = self._communications("letter")
        self.assertEqual(letter_comm.level_id, letter)
        self.assertEqual(letter_comm.state, "sent")
        self.assertEqual(letter_comm.amount_total, 835.5)
        batch = self.env["relance.print.batch"].search(
            [("communication_ids", "in", letter_comm.ids)]
        )
        self.assertEqual(len(batch), 1)
        self.assertEqual(batch.create_uid, self.accountant)
        self.assertEqual(batch.letter_count, 1)
        self.assertEqual(batch.state, "confirmed")
        self.assertTrue(batch.attachment_id, "the printed document is kept")
        self.assertFalse(
            self.env["relance.communication"].search(
                [
                    ("company_id", "=", self.company.id),
                    ("channel", "in", ("letter", "formal_notice")),
                    ("state", "=", "todo"),
                ]
            ),
            "no letter left to print",
        )
