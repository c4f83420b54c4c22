"""The payment-behaviour score of customers (documented in readme/DESCRIPTION.md).

Read with grouped SQL queries over the invoices due within the company's score
window; ``res.partner`` stores it and moves customers between profiles.
"""

from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, float_is_zero, float_round

# Weights of the payment-behaviour score (documented in readme/DESCRIPTION.md).
SCORE_NEUTRAL = 50
SCORE_LATE_DAYS_CAP = 50  # 1 point per amount-weighted day late, at most 50
SCORE_ON_TIME_WEIGHT = 30  # points lost when no invoice is paid on time
SCORE_REMINDER_POINTS = 5  # points per reminder needed per invoice...
SCORE_REMINDER_CAP = 10  # ...at most 10
SCORE_DISPUTE_POINTS = 5  # points per dispute lost...
SCORE_DISPUTE_CAP = 10  # ...at most 10
SCORE_PROMISE_KEPT_POINTS = 3  # points per promise to pay kept...
SCORE_PROMISE_KEPT_CAP = 6  # ...at most 6
SCORE_PROMISE_BROKEN_POINTS = 5  # points per promise to pay broken...
SCORE_PROMISE_BROKEN_CAP = 15  # ...at most 15


class RelanceScore(models.AbstractModel):
    _name = "relance.score"
    _description = "Dunning payment-behaviour score"

    @api.model
    def _compute_scores(self, partners, company, today=None):
        """Payment-behaviour score of ``partners`` (commercial) in ``company``.

        Over the customer invoices due within the company's score window, with
        late days taken at the real date of each payment (``max_date`` of the
        partial reconciliation, so a late payment recorded late still counts late):

        - ``L``: amount-weighted days late of the paid amounts and of the overdue
          residual (credit notes reduce the invoice, they do not pay it);
        - ``S``: share of invoices fully paid on or before their due date;
        - ``R``: reminders sent per invoice; ``D``: disputes lost (rejected);
        - ``K`` / ``B``: promises to pay kept / broken (partly kept included),
          closed within the window: ``P = min(6, 3 * K) - min(15, 5 * B)``.

        ``score = 100 - min(50, L) - 30 * (1 - S) - min(10, 5 * R) - min(10, 5 * D)
        + P``, or ``50 - min(10, 5 * D) + P`` for a customer without invoice in
        the window, rounded half up and kept within 0–100.

        :return: ``{partner_id: score}``
        """
        today = today or fields.Date.context_today(self)
        start = today - timedelta(days=company.relance_score_window_days or 365)
        stats = self._read_payment_stats(partners, company, start, today)
        reminders = self._read_reminder_counts(company, stats)
        disputes_lost = {
            partner.id: count
            # sudo: an aggregate for the score, filtered by company just below.
            for partner, count in self.env["relance.dispute"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                    ("state", "=", "rejected"),
                    ("date_resolved", ">=", start),
                ],
                ["partner_id"],
                ["__count"],
            )
        }
        promises = self._read_promise_counts(partners, company, start)
        rounding = company.currency_id.rounding
        scores = {}
        for partner in partners:
            moves = stats.get(partner.id, {})
            considered = {
                move_id: move
                for move_id, move in moves.items()
                if not float_is_zero(
                    move["paid"] + move["residual"], precision_rounding=rounding
                )
            }
            dispute_penalty = min(
                SCORE_DISPUTE_CAP,
                SCORE_DISPUTE_POINTS * disputes_lost.get(partner.id, 0),
            )
            kept, broken = promises.get(partner.id, (0, 0))
            promise_term = min(
                SCORE_PROMISE_KEPT_CAP, SCORE_PROMISE_KEPT_POINTS * kept
            ) - min(SCORE_PROMISE_BROKEN_CAP, SCORE_PROMISE_BROKEN_POINTS * broken)
            if not considered:
                raw = SCORE_NEUTRAL - dispute_penalty + promise_term
            else:
                weight = sum(m["paid"] + m["residual"] for m in considered.values())
                late = sum(m["late_weighted"] for m in considered.values())
                late_days = late / weight if weight else 0.0
                on_time = sum(
                    1
                    for m in considered.values()
                    if float_is_zero(m["residual"], precision_rounding=rounding)
                    and not m["paid_late"]
                )
                share_on_time = on_time / len(considered)
                reminder_rate = sum(
                    reminders.get(move_id, 0) for move_id in considered
                ) / len(considered)
                raw = (
                    100
                    - min(SCORE_LATE_DAYS_CAP, late_days)
                    - SCORE_ON_TIME_WEIGHT * (1 - share_on_time)
                    - min(SCORE_REMINDER_CAP, SCORE_REMINDER_POINTS * reminder_rate)
                    - dispute_penalty
                    + promise_term
                )
            scores[partner.id] = int(max(0, min(100, float_round(raw, 0))))
        return scores

    @api.model
    def _read_payment_stats(self, partners, company, start, today):
        """Per partner and invoice: paid amount, amount-weighted late days,
        whether any payment came after the due date, and the residual."""
        if not partners:
            return {}
        for model in ("account.move.line", "account.partial.reconcile", "account.move"):
            self.env[model].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH lines AS (
                    SELECT l.id, l.move_id, m.commercial_partner_id AS partner_id,
                           l.date_maturity AS due, l.amount_residual AS residual
                      FROM account_move_line l
                      JOIN account_move m ON m.id = l.move_id
                      JOIN account_account a ON a.id = l.account_id
                     WHERE m.move_type = 'out_invoice'
                       AND m.state = 'posted'
                       AND m.company_id = %(company)s
                       AND a.account_type = 'asset_receivable'
                       AND l.balance > 0
                       AND m.commercial_partner_id = ANY(%(partners)s)
                       AND l.date_maturity BETWEEN %(start)s AND %(today)s
                ), parts AS (
                    SELECT lines.id AS line_id,
                           SUM(apr.amount) AS paid,
                           SUM(apr.amount * GREATEST(apr.max_date - lines.due, 0))
                               AS late_weighted,
                           BOOL_OR(apr.max_date > lines.due) AS paid_late
                      FROM lines
                      JOIN account_partial_reconcile apr ON apr.debit_move_id = lines.id
                      JOIN account_move_line cl ON cl.id = apr.credit_move_id
                      JOIN account_move cm ON cm.id = cl.move_id
                     WHERE cm.move_type != 'out_refund'
                  GROUP BY lines.id
                )
                SELECT lines.partner_id, lines.move_id, lines.due, lines.residual,
                       COALESCE(parts.paid, 0), COALESCE(parts.late_weighted, 0),
                       COALESCE(parts.paid_late, FALSE)
                  FROM lines
             LEFT JOIN parts ON parts.line_id = lines.id
                """,
                company=company.id,
                partners=partners.ids,
                start=start,
                today=today,
            )
        )
        stats = defaultdict(dict)
        for (
            partner_id,
            move_id,
            due,
            residual,
            paid,
            late_weighted,
            paid_late,
        ) in self.env.cr.fetchall():
            move = stats[partner_id].setdefault(
                move_id,
                {
                    "paid": 0.0,
                    "residual": 0.0,
                    "late_weighted": 0.0,
                    "paid_late": False,
                },
            )
            residual = max(residual or 0.0, 0.0)
            move["paid"] += paid
            move["residual"] += residual
            move["late_weighted"] += late_weighted + residual * max(
                (today - due).days, 0
            )
            move["paid_late"] = move["paid_late"] or paid_late
        return stats

    @api.model
    def _read_reminder_counts(self, company, stats):
        """Reminders sent per invoice: ``{move_id: count}``."""
        move_ids = [move_id for moves in stats.values() for move_id in moves]
        if not move_ids:
            return {}
        # sudo: an aggregate for the score, filtered by company just below.
        groups = (
            self.env["relance.history"]
            .sudo()
            ._read_group(
                [
                    ("move_id", "in", move_ids),
                    ("company_id", "=", company.id),
                    ("kind", "=", "reminder"),
                    ("state", "=", "sent"),
                ],
                ["move_id"],
                ["__count"],
            )
        )
        return {move.id: count for move, count in groups}

    @api.model
    def _read_promise_counts(self, partners, company, start):
        """Promises to pay kept and broken, closed since ``start``:
        ``{partner_id: (kept, broken)}``."""
        # sudo: an aggregate for the score, filtered by company just below.
        groups = (
            self.env["relance.promise"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                    ("state", "in", ("kept", "broken")),
                    ("date_closed", ">=", start),
                ],
                ["partner_id", "state"],
                ["__count"],
            )
        )
        counts = defaultdict(lambda: [0, 0])
        for partner, state, count in groups:
            counts[partner.id][0 if state == "kept" else 1] += count
        return {pid: tuple(values) for pid, values in counts.items()}
