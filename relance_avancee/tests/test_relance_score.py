"""Payment-behaviour score of a customer (``res.partner.relance_score``).

Every expected score is worked out by hand from the documented formula
(``res.partner._relance_compute_scores``)::

    score = 100 - min(50, L) - 30 * (1 - S) - min(10, 5 * R) - min(10, 5 * D)

``L``: amount-weighted days late (paid amounts at their payment date, overdue
residual up to today); ``S``: share of invoices fully paid on or before their due
date; ``R``: reminders sent per invoice; ``D``: disputes lost. A customer without
any invoice due in the window scores ``50 - min(10, 5 * D)``. Rounded half up.
"""

from freezegun import freeze_time

from odoo import fields
from odoo.tests import Form, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceScore(RelanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sme_levels = cls.profile_sme._get_sorted_levels()

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _due_invoice(self, partner, amount, due):
        """An invoice issued 30 days before its due date."""
        due = fields.Date.to_date(due)
        return self._invoice(
            partner, amount, due, invoice_date=fields.Date.subtract(due, days=30)
        )

    def _score(self, partner):
        return partner.with_company(self.company).relance_score

    def _recompute(self, partner):
        partner.action_relance_recompute_score()
        return self._score(partner)

    def _sent_reminder(self, invoice, level, state="sent", kind="reminder"):
        return self.env["relance.history"].create(
            {
                "company_id": self.company.id,
                "partner_id": invoice.commercial_partner_id.id,
                "move_id": invoice.id,
                "level_id": level.id,
                "profile_id": level.profile_id.id,
                "channel": level.channel,
                "kind": kind,
                "state": state,
                "date": fields.Date.today(),
            }
        )

    def _dispute(self, invoice):
        return self.env["relance.dispute"].create(
            {"move_id": invoice.id, "reason": "price"}
        )

    def _reconcile_credit_note(self, invoice, credit_note):
        (invoice.line_ids | credit_note.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).reconcile()

    def _profile_messages(self, partner):
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("body", "ilike", "Dunning profile changed"),
            ]
        )

    # ------------------------------------------------------------------
    # The formula on known histories
    # ------------------------------------------------------------------

    @freeze_time("2026-06-30 12:00:00")
    def test_always_on_time_scores_100(self):
        partner = self._create_customer("Ponctuel SA")
        invoices = [
            (self._due_invoice(partner, 1000.0, "2026-03-10"), "2026-03-10"),
            (self._due_invoice(partner, 2000.0, "2026-04-20"), "2026-04-15"),
            (self._due_invoice(partner, 500.0, "2026-05-31"), "2026-05-31"),
        ]
        for invoice, day in invoices:
            self._pay(invoice, day)
        self.assertTrue(
            all(inv.payment_state in ("paid", "in_payment") for inv, _d in invoices)
        )
        # L = 0, S = 3/3 = 1, R = 0, D = 0 -> 100 - 0 - 30 * 0 = 100
        self.assertEqual(self._score(partner), 100)

    @freeze_time("2026-06-30 12:00:00")
    def test_always_30_days_late_scores_40(self):
        partner = self._create_customer("Retard SARL")
        for amount, due, paid in (
            (1000.0, "2026-03-10", "2026-04-09"),
            (2000.0, "2026-03-20", "2026-04-19"),
            (500.0, "2026-03-31", "2026-04-30"),
        ):
            self._pay(self._due_invoice(partner, amount, due), paid)
        # L = (1000*30 + 2000*30 + 500*30) / 3500 = 30, S = 0/3
        # -> 100 - 30 - 30 * (1 - 0) = 40
        self.assertEqual(self._score(partner), 40)

    @freeze_time("2026-06-30 12:00:00")
    def test_mixed_history_is_amount_weighted_and_rounded_half_up(self):
        partner = self._create_customer("Mixte SAS")
        self._pay(self._due_invoice(partner, 1000.0, "2026-03-31"), "2026-04-10")
        self._pay(self._due_invoice(partner, 3000.0, "2026-04-15"), "2026-04-15")
        # L = (1000*10 + 3000*0) / 4000 = 2.5, S = 1/2
        # -> 100 - 2.5 - 30 * (1 - 0.5) = 82.5 -> 83 (half up)
        self.assertEqual(self._score(partner), 83)

    @freeze_time("2026-06-30 12:00:00")
    def test_partial_payments_weigh_each_payment_at_its_date(self):
        partner = self._create_customer("Acomptes SARL")
        split = self._due_invoice(partner, 2000.0, "2026-03-31")
        self._pay(split, "2026-03-31", amount=1000.0)
        self.assertEqual(split.amount_residual, 1000.0)
        self._pay(split, "2026-04-20", amount=1000.0)
        self._pay(self._due_invoice(partner, 1000.0, "2026-04-15"), "2026-04-15")
        # L = (1000*0 + 1000*20 + 1000*0) / 3000 = 6.667
        # S = 1/2 (the split invoice was partly paid late, so not on time)
        # -> 100 - 6.667 - 30 * (1 - 0.5) = 78.333 -> 78
        self.assertEqual(self._score(partner), 78)

    @freeze_time("2026-06-30 12:00:00")
    def test_credit_notes_are_neither_payment_nor_lateness(self):
        partner = self._create_customer("Avoir SA")
        # 1000 due 31/03: 600 paid on time, 400 credited 20 days after the due date.
        partly_credited = self._due_invoice(partner, 1000.0, "2026-03-31")
        self._pay(partly_credited, "2026-03-31", amount=600.0)
        self._reconcile_credit_note(
            partly_credited, self._credit_note(partner, 400.0, "2026-04-20")
        )
        # 500 due 10/04, fully credited on 25/04: not an invoice to pay at all.
        fully_credited = self._due_invoice(partner, 500.0, "2026-04-10")
        self._reconcile_credit_note(
            fully_credited, self._credit_note(partner, 500.0, "2026-04-25")
        )
        self.assertEqual(partly_credited.amount_residual, 0.0)
        self.assertEqual(fully_credited.amount_residual, 0.0)
        # Only the first invoice counts, for its 600 paid on time:
        # L = 600*0 / 600 = 0, S = 1/1 -> 100.
        # (Counting the credit note as a late payment would give L = 400*20/1000 = 8,
        # S = 0 -> 62; counting the fully credited invoice would give S = 1/2 -> 85.)
        partner.action_relance_recompute_score()
        self.assertEqual(self._score(partner), 100)

    def test_unpaid_overdue_invoice_counts_late_days_up_to_today(self):
        partner = self._create_customer("Impayé SARL")
        with freeze_time("2026-04-22 12:00:00"):
            self._pay(self._due_invoice(partner, 3000.0, "2026-03-31"), "2026-03-31")
            self._due_invoice(partner, 1000.0, "2026-04-10")
            # 1000 unpaid, 12 days late: L = (3000*0 + 1000*12) / 4000 = 3, S = 1/2
            # -> 100 - 3 - 15 = 82
            self.assertEqual(self._recompute(partner), 82)
        with freeze_time("2026-05-12 12:00:00"):
            # Still unpaid, now 32 days late: L = 1000*32 / 4000 = 8, S = 1/2
            # -> 100 - 8 - 15 = 77
            self.assertEqual(self._recompute(partner), 77)

    @freeze_time("2026-06-30 12:00:00")
    def test_reminders_needed_lower_the_score(self):
        partner = self._create_customer("Relancé SARL")
        inv_a = self._due_invoice(partner, 1000.0, "2026-03-31")
        inv_b = self._due_invoice(partner, 1000.0, "2026-04-10")
        self._pay(inv_a, "2026-04-04")
        self._pay(inv_b, "2026-04-14")
        courtesy, first, second, call, _ultimatum, letter, notice = self.sme_levels
        self._sent_reminder(inv_a, first)
        self._sent_reminder(inv_a, second)
        self._sent_reminder(inv_b, first)
        # Neither a failed reminder nor a courtesy notice is a reminder needed.
        self._sent_reminder(inv_b, second, state="error")
        self._sent_reminder(inv_b, courtesy, kind="courtesy")
        # L = (1000*4 + 1000*4) / 2000 = 4, S = 0, R = (2 + 1) / 2 = 1.5
        # -> 100 - 4 - 30 - min(10, 5*1.5 = 7.5) = 58.5 -> 59 (half up)
        self.assertEqual(self._recompute(partner), 59)

        self._sent_reminder(inv_b, call)
        self._sent_reminder(inv_b, letter)
        self._sent_reminder(inv_b, notice)
        # R = (2 + 4) / 2 = 3 -> 5*3 = 15, capped at 10: 100 - 4 - 30 - 10 = 56
        self.assertEqual(self._recompute(partner), 56)

    @freeze_time("2026-06-30 12:00:00")
    def test_disputes_lost_lower_the_score(self):
        partner = self._create_customer("Contestataire SA")
        inv_a = self._due_invoice(partner, 1000.0, "2026-03-31")
        inv_b = self._due_invoice(partner, 1000.0, "2026-04-10")
        self._pay(inv_a, "2026-03-31")
        self._pay(inv_b, "2026-04-10")
        self._dispute(inv_a).action_reject()
        self._dispute(inv_b).action_accept()  # the customer was right: no penalty
        self._dispute(inv_b)  # still open: no penalty
        # L = 0, S = 1, R = 0, D = 1 -> 100 - min(10, 5*1) = 95
        self.assertEqual(self._recompute(partner), 95)

        self._dispute(inv_a).action_reject()
        self._dispute(inv_b).action_reject()
        # D = 3 -> 5*3 = 15, capped at 10: 100 - 10 = 90
        self.assertEqual(self._recompute(partner), 90)

    @freeze_time("2026-06-30 12:00:00")
    def test_new_customer_is_neutral(self):
        partner = self._create_customer("Nouveau SARL")
        self.assertEqual(self._score(partner), 50)
        self.assertEqual(self._recompute(partner), 50)
        # An invoice not yet due is no payment history either.
        not_due = self._due_invoice(partner, 1000.0, "2026-07-31")
        self.assertEqual(self._recompute(partner), 50)
        # Without invoice in the window, a dispute lost still counts: 50 - 5*1 = 45.
        self._dispute(not_due).action_reject()
        self.assertEqual(self._recompute(partner), 45)

    @freeze_time("2026-06-30 12:00:00")
    def test_invoices_outside_the_window_are_ignored(self):
        self.company.relance_score_window_days = 90  # window: 01/04/2026 – 30/06/2026
        partner = self._create_customer("Ancien SA")
        self._pay(self._due_invoice(partner, 1000.0, "2026-03-02"), "2026-04-01")
        self._pay(self._due_invoice(partner, 1000.0, "2026-06-01"), "2026-06-01")
        # Only the invoice due 01/06 is in the window: L = 0, S = 1/1 -> 100
        self.assertEqual(self._recompute(partner), 100)

        self.company.relance_score_window_days = 365
        # Both count: L = (1000*30 + 1000*0) / 2000 = 15, S = 1/2
        # -> 100 - 15 - 15 = 70
        self.assertEqual(self._recompute(partner), 70)

    # ------------------------------------------------------------------
    # Retroactive recomputation at the payment's real date
    # ------------------------------------------------------------------

    @freeze_time("2026-05-10 12:00:00")
    def test_payment_dated_on_time_but_recorded_late_counts_on_time(self):
        partner = self._create_customer("Saisie Tardive SA")
        invoice = self._due_invoice(partner, 1000.0, "2026-03-31")
        # Unpaid 40 days after the due date: L = 40, S = 0 -> 100 - 40 - 30 = 30
        self.assertEqual(self._recompute(partner), 30)
        # Recorded today (D+40), dated 28/03, before the due date: on time.
        self._pay(invoice, "2026-03-28")
        # L = 0, S = 1 -> 100 (recomputed at once on reconciliation)
        self.assertEqual(self._score(partner), 100)

    @freeze_time("2026-05-10 12:00:00")
    def test_payment_dated_late_counts_late_at_its_own_date(self):
        partner = self._create_customer("Paiement Tardif SA")
        invoice = self._due_invoice(partner, 1000.0, "2026-03-31")
        # Recorded today (D+40), dated 30/04 (D+30): 30 days late, not 40.
        self._pay(invoice, "2026-04-30")
        # L = 30, S = 0 -> 100 - 30 - 30 = 40 (40 days would give 30)
        self.assertEqual(self._score(partner), 40)

    def test_unreconciling_a_payment_recomputes_the_score(self):
        partner = self._create_customer("Rejet Bancaire SA")
        invoice = self._due_invoice(partner, 1000.0, "2026-03-31")
        with freeze_time("2026-04-15 12:00:00"):
            payment = self._pay(invoice, "2026-03-31")
            self.assertEqual(self._score(partner), 100)
            payment.action_draft()  # e.g. the transfer bounced
            self.assertEqual(invoice.amount_residual, 1000.0)
            # Unpaid again, 15 days late: L = 15, S = 0 -> 100 - 15 - 30 = 55
            self.assertEqual(self._score(partner), 55)

    # ------------------------------------------------------------------
    # Moving customers between profiles
    # ------------------------------------------------------------------

    def _pay_on_time_then_very_late(self, partner):
        """1000 due 31/03 paid on time, then 3000 due 10/04 paid 80 days late."""
        with freeze_time("2026-03-31 12:00:00"):
            on_time = self._due_invoice(partner, 1000.0, "2026-03-31")
            late = self._due_invoice(partner, 3000.0, "2026-04-10")
            self._pay(on_time, "2026-03-31")
            # The 3000 is not due yet: L = 0, S = 1/1 -> 100
            self.assertEqual(self._score(partner), 100)
        with freeze_time("2026-06-29 12:00:00"):
            self._pay(late, "2026-06-29")
        # L = (1000*0 + 3000*80) / 4000 = 60, capped at 50; S = 1/2
        # -> 100 - 50 - 15 = 35

    def test_late_payment_moves_automatic_customer_to_at_risk_profile(self):
        partner = self._create_customer(
            "Glissant SARL", self.profile_sme, relance_profile_auto=True
        )
        self._pay_on_time_then_very_late(partner)
        partner = partner.with_company(self.company)
        self.assertEqual(partner.relance_score, 35)
        self.assertEqual(partner.relance_profile_id, self.profile_risk)
        message = self._profile_messages(partner)
        self.assertEqual(len(message), 1, "one chatter message for the one move")
        body = str(message.body)
        self.assertIn(self.profile_sme.name, body)  # Small business
        self.assertIn(self.profile_risk.name, body)  # At-risk customer
        self.assertRegex(body, r"\b100\b", "old score")
        self.assertRegex(body, r"\b35\b", "new score")

    def test_late_payment_keeps_manual_customer_on_its_profile(self):
        partner = self._create_customer(
            "Fidèle SARL", self.profile_sme, relance_profile_auto=False
        )
        self._pay_on_time_then_very_late(partner)
        partner = partner.with_company(self.company)
        self.assertEqual(partner.relance_score, 35)
        self.assertEqual(partner.relance_profile_id, self.profile_sme)
        self.assertFalse(self._profile_messages(partner))

    def test_hand_picked_key_account_stays_whatever_the_score(self):
        partner = self._create_customer(
            "Grand Compte SA", self.profile_key, relance_profile_auto=True
        )
        self._pay_on_time_then_very_late(partner)
        partner = partner.with_company(self.company)
        self.assertEqual(partner.relance_score, 35)
        self.assertEqual(partner.relance_profile_id, self.profile_key)
        self.assertFalse(self._profile_messages(partner))

    def test_choosing_a_profile_without_range_stops_automatic_moves(self):
        partner = self._create_customer(
            "Choisi SA", self.profile_sme, relance_profile_auto=True
        )
        with Form(partner.with_company(self.company)) as form:
            form.relance_profile_id = self.profile_export
            self.assertFalse(form.relance_profile_auto)
        with Form(partner.with_company(self.company)) as form:
            form.relance_profile_id = self.profile_risk
            form.relance_profile_auto = True
        self.assertTrue(partner.with_company(self.company).relance_profile_auto)

    def test_nightly_cron_updates_scores(self):
        partner = self._create_customer("Dormant SARL")
        with freeze_time("2026-03-31 12:00:00"):
            self._pay(self._due_invoice(partner, 1000.0, "2026-03-31"), "2026-03-31")
            self._due_invoice(partner, 1000.0, "2026-04-10")
            # The second invoice is not due yet: L = 0, S = 1/1 -> 100
            self.assertEqual(self._score(partner), 100)
        with freeze_time("2026-04-30 12:00:00"):
            # Nothing happened since: the stored score is stale until the cron.
            self.assertEqual(self._score(partner), 100)
            self.env["res.partner"]._cron_update_relance_scores()
            # 1000 unpaid 20 days late: L = 1000*20 / 2000 = 10, S = 1/2
            # -> 100 - 10 - 15 = 75
            self.assertEqual(self._score(partner), 75)
        with freeze_time("2026-05-10 12:00:00"):
            self.env.ref(
                "relance_avancee.ir_cron_relance_score"
            ).sudo().method_direct_trigger()
            # 30 days late: L = 1000*30 / 2000 = 15, S = 1/2 -> 100 - 15 - 15 = 70
            self.assertEqual(self._score(partner), 70)
