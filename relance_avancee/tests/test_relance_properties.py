"""Property-based tests: random ledgers and histories keep the batch's invariants.

Hypothesis draws a few customers of random profiles with random invoices, then
a story of batch runs on increasing days (a gap of 0 days reruns the same day)
with, before each run, payments (partial or full), credit notes reconciled with
an invoice, disputes opened or rejected and tasks done by a person. After every
run the invariants of the dunning history are checked:

- at most one history row per (invoice, level, cycle);
- no reminder recorded for an invoice that had nothing left to pay or was in
  dispute when the run started;
- the steps of one invoice follow the scenario's order, never two on one day;
- at most one thank-you per invoice;
- the payment score stays within 0–100.

The examples are derandomized (fixed seed, no example database) and bounded, so
CI always runs the same stories in well under a minute and a half. Each example
runs inside a savepoint rolled back at its end.
"""

from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import date, timedelta

from freezegun import freeze_time
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from .common import RelanceCommon

START = date(2026, 3, 1)
PROFILES = ("sme", "risk", "key", "export")
MADE_STATES = ("sent", "todo", "error")

# One invoice: amount and due date relative to the first run.
invoice_st = st.tuples(st.integers(60, 4000), st.integers(-5, 25))
customer_st = st.fixed_dictionaries(
    {
        "profile": st.sampled_from(PROFILES),
        "invoices": st.lists(invoice_st, min_size=1, max_size=3),
    }
)
# What happens before a run. The invoice is picked by an index modulo the
# number of invoices of the story; the fraction is of the invoice's residual.
event_st = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 8), st.sampled_from((0.5, 1.0))),
    st.tuples(st.just("credit"), st.integers(0, 8), st.sampled_from((0.4, 1.0))),
    st.tuples(st.just("dispute"), st.integers(0, 8), st.just(None)),
    st.tuples(st.just("reject"), st.integers(0, 8), st.just(None)),
    st.tuples(st.just("tasks_done"), st.integers(0, 8), st.just(None)),
)
# One run: days since the previous run (0 = the same day again) and the events.
run_st = st.tuples(st.integers(0, 14), st.lists(event_st, max_size=3))
story_st = st.fixed_dictionaries(
    {
        "customers": st.lists(customer_st, min_size=1, max_size=3),
        "runs": st.lists(run_st, min_size=3, max_size=7),
    }
)

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    # No shrinking: a failing story is printed as drawn, CI stays fast.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@tagged("post_install", "-at_install")
class TestRelanceProperties(RelanceCommon):
    """Random stories keep the invariants of the dunning history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.profiles = {
            "sme": cls.profile_sme,
            "risk": cls.profile_risk,
            "key": cls.profile_key,
            "export": cls.profile_export,
        }
        # The levels of every profile in scenario order, read once.
        cls.level_rank = {
            level.id: rank
            for profile in cls.profiles.values()
            for rank, level in enumerate(profile._get_sorted_levels())
        }

    # ------------------------------------------------------------------
    # Harness
    # ------------------------------------------------------------------

    @contextmanager
    def _example(self):
        """Run one example in a savepoint rolled back at its end, with the
        caches cleared so that the next example starts from the same data."""
        savepoint = self.env.cr.savepoint()
        try:
            yield
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()
            self.env.registry.clear_cache()

    def _build_ledger(self, customers):
        with freeze_time(START - timedelta(days=10)):
            partners = self.env["res.partner"]
            invoices = self.env["account.move"]
            for number, customer in enumerate(customers):
                partner = self._create_customer(
                    f"Property Customer {number}", self.profiles[customer["profile"]]
                )
                partners |= partner
                for amount, due_offset in customer["invoices"]:
                    due = START + timedelta(days=due_offset)
                    invoices |= self._invoice(
                        partner, amount, due, invoice_date=START - timedelta(days=40)
                    )
        return partners, invoices

    def _apply(self, event, invoices, day):
        kind, index, fraction = event
        invoice = invoices[index % len(invoices)]
        residual = invoice.amount_residual
        if kind == "pay" and residual > 0:
            amount = invoice.currency_id.round(residual * fraction) or residual
            self._pay(invoice, day, amount=amount)
        elif kind == "credit" and residual > 0:
            amount = invoice.currency_id.round(residual * fraction) or residual
            refund = self._credit_note(invoice.partner_id, amount, day)
            (invoice.line_ids + refund.line_ids).filtered(
                lambda line: (
                    line.account_id.account_type == "asset_receivable"
                    and not line.reconciled
                )
            ).reconcile()
        elif kind == "dispute" and not invoice.relance_in_dispute and residual > 0:
            self.env["relance.dispute.wizard"].create(
                {"move_id": invoice.id, "reason": "not_received", "note": "Lost"}
            ).action_confirm()
        elif kind == "reject":
            invoice.relance_dispute_ids.filtered(
                lambda d: d.state == "open"
            ).action_reject()
        elif kind == "tasks_done":
            self.env["relance.communication"].search(
                [
                    ("partner_id", "=", invoice.partner_id.id),
                    ("state", "=", "todo"),
                ]
            ).action_mark_done()

    def _snapshot(self, invoices):
        """``{move_id: (residual, in_dispute)}`` as the run starts."""
        invoices.invalidate_recordset()
        return {
            move.id: (move.amount_residual, move.relance_in_dispute)
            for move in invoices
        }

    def _play(self, story):
        """Play ``story`` and check the invariants after every run."""
        partners, invoices = self._build_ledger(story["customers"])
        History = self.env["relance.history"]
        day = START - timedelta(days=8)
        for gap, events in story["runs"]:
            day += timedelta(days=gap)
            with freeze_time(day):
                for event in events:
                    self._apply(event, invoices, day)
                before = self._snapshot(invoices)
                last_id = History.search([], order="id desc", limit=1).id or 0
                self._run(day, partners)
                new_rows = History.search(
                    [("id", ">", last_id), ("move_id", "in", invoices.ids)]
                )
                self._assert_no_reminder_for_settled_or_disputed(new_rows, before)
                rows = History.search([("move_id", "in", invoices.ids)])
                self._assert_one_row_per_step(rows)
                self._assert_steps_in_scenario_order(rows)
                self._assert_thanks_at_most_once(rows)
                self._assert_scores_in_range(partners, day)

    # ------------------------------------------------------------------
    # Invariants
    # ------------------------------------------------------------------

    def _assert_one_row_per_step(self, rows):
        steps = Counter(
            (row.move_id.id, row.level_id.id, row.cycle)
            for row in rows
            if row.kind != "thanks"
        )
        duplicates = {key: count for key, count in steps.items() if count > 1}
        self.assertFalse(duplicates, "more than one row per (invoice, level, cycle)")

    def _assert_no_reminder_for_settled_or_disputed(self, new_rows, before):
        for row in new_rows.filtered(
            lambda r: r.kind != "thanks" and r.state in ("sent", "todo")
        ):
            residual, in_dispute = before[row.move_id.id]
            self.assertGreater(
                residual,
                0.0,
                f"{row.display_name} recorded ({row.state}) for an invoice "
                "with nothing left to pay",
            )
            self.assertFalse(
                in_dispute, f"{row.display_name} recorded for a disputed invoice"
            )
            self.assertGreater(row.amount_residual, 0.0)

    def _assert_steps_in_scenario_order(self, rows):
        """The steps made for one invoice follow the scenario, and two steps
        (two delays of the scenario) are never made on one day; the levels of
        one step (an email and an SMS at the same delay) go together."""
        by_move = defaultdict(list)
        for row in rows.sorted(lambda r: (r.date, r.id)):
            if row.kind != "thanks" and row.state in MADE_STATES:
                by_move[row.move_id].append(row)
        for move, steps in by_move.items():
            ranks = [self.level_rank[row.level_id.id] for row in steps]
            self.assertEqual(
                ranks, sorted(ranks), f"steps of {move.name} out of scenario order"
            )
            step_by_day = defaultdict(set)
            for row in steps:
                step_by_day[row.date].add(row.level_id.delay)
            crowded = {day: s for day, s in step_by_day.items() if len(s) > 1}
            self.assertFalse(crowded, f"two steps of {move.name} on one day")

    def _assert_thanks_at_most_once(self, rows):
        thanks = Counter(row.move_id.id for row in rows if row.kind == "thanks")
        self.assertLessEqual(max(thanks.values(), default=0), 1)

    def _assert_scores_in_range(self, partners, day):
        scores = partners._relance_update_scores(self.company, today=day)
        for partner in partners:
            self.assertTrue(0 <= scores[partner.id] <= 100, scores)
            self.assertTrue(
                0 <= partner.with_company(self.company).relance_score <= 100
            )

    # ------------------------------------------------------------------
    # Properties
    # ------------------------------------------------------------------

    @PROPERTY_SETTINGS
    @given(story=story_st)
    def test_random_histories_keep_the_invariants(self, story):
        with self._example():
            self._play(story)

    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
        ],
    )
    @given(
        invoices=st.lists(
            st.tuples(
                st.integers(50, 3000),
                st.integers(-60, 30),
                st.sampled_from((None, -20, 0, 10, 90)),
            ),
            min_size=1,
            max_size=6,
        ),
        rejected_disputes=st.integers(0, 4),
    )
    def test_score_stays_within_0_and_100(self, invoices, rejected_disputes):
        """Whatever the payment behaviour (early, on time, very late, never),
        the score stays within 0–100."""
        with self._example():
            today = START + timedelta(days=60)
            with freeze_time(today):
                partner = self._create_customer("Score Customer", self.profile_sme)
                moves = self.env["account.move"]
                for amount, due_offset, paid_offset in invoices:
                    due = START + timedelta(days=due_offset)
                    move = self._invoice(
                        partner,
                        amount,
                        due,
                        invoice_date=START - timedelta(days=70),
                    )
                    moves |= move
                    if paid_offset is not None:
                        paid = min(due + timedelta(days=paid_offset), today)
                        self._pay(move, paid)
                for _number in range(rejected_disputes):
                    dispute = self.env["relance.dispute"].create(
                        {
                            "move_id": moves[0].id,
                            "reason": "not_received",
                            "owner_id": self.env.user.id,
                        }
                    )
                    dispute.action_reject()
                scores = partner._relance_update_scores(self.company, today=today)
            self.assertTrue(0 <= scores[partner.id] <= 100, scores)
            self.assertEqual(
                partner.with_company(self.company).relance_score, scores[partner.id]
            )
