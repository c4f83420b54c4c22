"""The dunning engine: plan each open invoice's next step, then act.

Reading is grouped (one query for the open receivables of all customers, one
for their history, one for their partners), so the scan costs the same number of
queries for 10 or 10,000 customers. Acting is per customer, under a row lock
taken with ``SKIP LOCKED``, in bounded batches committed one by one outside
tests. The unique key of ``relance.history`` makes a step impossible to record,
hence to send, twice.
"""

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg2.errors

from odoo import _, api, fields, models, modules
from odoo.tools import SQL, config, format_amount, mute_logger

_logger = logging.getLogger(__name__)


@dataclass
class MovePlan:
    """The next dunning step of one open receivable document."""

    move_id: int
    partner_id: int
    profile: object
    due_date: date
    amount: float  # residual in company currency
    amount_currency: float  # residual in the document's currency
    currency_id: int
    cycle: int
    levels: object  # relance.level recordset: the levels of the next step
    planned_date: date | None = None
    missed: list = field(default_factory=list)  # [(level, reason)] to skip
    waiting: object = None  # relance.level recordset still to do by a person


@dataclass
class Proposal:
    """One communication the batch would make: a customer, a channel, its items."""

    partner_id: int
    channel: str
    kind: str
    manual: bool
    level: object
    items: list  # [(MovePlan, level)]
    amount: float = 0.0
    skip_reason: str | None = None

    @property
    def key(self):
        return (self.partner_id, self.channel, self.kind, self.manual)


@dataclass
class RunStats:
    customers: int = 0
    communications: int = 0
    sent: int = 0
    todo: int = 0
    errors: int = 0
    skipped: int = 0
    cancelled: int = 0
    blocked: int = 0
    locked: int = 0
    merged: int = 0

    def add_state(self, state):
        attr = {
            "sent": "sent",
            "todo": "todo",
            "error": "errors",
            "cancelled": "cancelled",
        }
        setattr(self, attr[state], getattr(self, attr[state]) + 1)


class RelanceEngine(models.AbstractModel):
    _name = "relance.engine"
    _description = "Dunning engine"

    # ------------------------------------------------------------------
    # Reading: what is due
    # ------------------------------------------------------------------

    @api.model
    def _read_open_receivables(self, company, partner_ids=None):
        """Open receivable items of ``company`` in one grouped query.

        :return: ``(moves, credits)`` where ``moves`` maps a move id to its
            aggregated open debit (partner, due date, residuals, currency,
            cycle, dispute flag) and ``credits`` maps a commercial partner to
            the total of its unreconciled credits (payments, credit notes).
        """
        for model in ("account.move.line", "account.move", "res.partner"):
            self.env[model].flush_model()
        partner_filter = (
            SQL("AND m.commercial_partner_id = ANY(%s)", list(partner_ids))
            if partner_ids is not None
            else SQL()
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT l.move_id,
                       m.commercial_partner_id,
                       m.relance_cycle,
                       m.relance_in_dispute,
                       MIN(l.date_maturity) FILTER (WHERE l.amount_residual > 0),
                       SUM(l.amount_residual) FILTER (WHERE l.amount_residual > 0),
                       SUM(l.amount_residual_currency)
                           FILTER (WHERE l.amount_residual > 0),
                       MIN(l.currency_id),
                       SUM(l.amount_residual) FILTER (WHERE l.amount_residual < 0)
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN account_account a ON a.id = l.account_id
                 WHERE l.company_id = %(company)s
                   AND l.parent_state = 'posted'
                   AND a.account_type = 'asset_receivable'
                   AND NOT l.reconciled
                   AND l.amount_residual != 0
                   AND m.commercial_partner_id IS NOT NULL
                   %(partner_filter)s
              GROUP BY l.move_id, m.commercial_partner_id, m.relance_cycle,
                       m.relance_in_dispute
                """,
                company=company.id,
                partner_filter=partner_filter,
            )
        )
        moves = {}
        credits = defaultdict(float)
        for (
            move_id,
            partner_id,
            cycle,
            in_dispute,
            due,
            residual,
            residual_currency,
            currency_id,
            credit,
        ) in self.env.cr.fetchall():
            if credit:
                credits[partner_id] += -credit
            if residual:
                moves[move_id] = {
                    "partner_id": partner_id,
                    "cycle": cycle or 1,
                    "in_dispute": in_dispute,
                    "due": due,
                    "residual": residual,
                    "residual_currency": residual_currency or residual,
                    "currency_id": currency_id,
                }
        return moves, credits

    @api.model
    def _read_done_steps(self, move_ids):
        """``{move_id: {(level_id, cycle): (state, date)}}`` of recorded steps."""
        if not move_ids:
            return {}
        self.env["relance.history"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT move_id, level_id, cycle, state, COALESCE(done_date, date)
                  FROM relance_history
                 WHERE move_id = ANY(%s)
                   AND kind IN ('courtesy', 'reminder')
                """,
                list(move_ids),
            )
        )
        done = defaultdict(dict)
        for move_id, level_id, cycle, state, day in self.env.cr.fetchall():
            done[move_id][(level_id, cycle)] = (state, day)
        return done

    @api.model
    def _get_steps(self, profile):
        """The scenario of ``profile`` as ``[(delay, levels)]`` in sending order."""
        steps = []
        for level in profile._get_sorted_levels():
            if steps and steps[-1][0] == level.delay:
                steps[-1] = (level.delay, steps[-1][1] | level)
            else:
                steps.append((level.delay, level))
        return steps

    @api.model
    def _plan(self, company, today, partner_ids=None):
        """Plan the next step of every open receivable of ``company``.

        A scenario is walked one step at a time: a step is due ``delay`` days
        after the due date and never sooner after the previous step than the
        scenario's spacing, so a customer is never sent two steps at once and a
        day the batch did not run is caught up the next day (``<=``). A courtesy
        notice whose moment passed with the due date is skipped, not sent late.

        :return: list of :class:`MovePlan`
        """
        moves, _credits = self._read_open_receivables(company, partner_ids)
        return self._plan_moves(company, today, moves)

    @api.model
    def _plan_moves(self, company, today, moves):
        # Iterating keeps the prefetch of the whole set: one read for all.
        partners = {
            partner.id: partner
            for partner in self.env["res.partner"]
            .with_company(company)
            .browse({m["partner_id"] for m in moves.values()})
        }
        done = self._read_done_steps(list(moves))
        steps_by_profile = {}
        plans = []
        for move_id, move in moves.items():
            if move["in_dispute"]:
                continue
            partner = partners[move["partner_id"]]
            if partner.relance_excluded:
                continue
            profile = partner._relance_get_profile(company)
            if not profile or not profile.active:
                continue
            if profile not in steps_by_profile:
                steps_by_profile[profile] = self._get_steps(profile)
            plan = MovePlan(
                move_id=move_id,
                partner_id=move["partner_id"],
                profile=profile,
                due_date=move["due"],
                amount=move["residual"],
                amount_currency=move["residual_currency"],
                currency_id=move["currency_id"],
                cycle=move["cycle"],
                levels=self.env["relance.level"],
            )
            self._plan_next_step(
                plan, steps_by_profile[profile], done.get(move_id, {}), today
            )
            if plan.levels or plan.missed or plan.waiting:
                plans.append(plan)
        return plans

    @api.model
    def _plan_next_step(self, plan, steps, done, today):
        """Fill ``plan.levels``/``planned_date`` with the first unfinished step."""
        previous = None  # (delay, date) of the last step really made
        for delay, levels in steps:
            recorded = {
                level: done[(level.id, plan.cycle)]
                for level in levels
                if (level.id, plan.cycle) in done
                and done[(level.id, plan.cycle)][0] != "cancelled"
            }
            missing = levels.filtered(lambda lvl, r=recorded: lvl not in r)
            if any(state == "todo" for state, _day in recorded.values()):
                # A step still waiting for a person (a call, a letter to print,
                # a manual sending) holds the scenario: nothing escalates past it.
                plan.waiting = levels.filtered(
                    lambda lvl, r=recorded: lvl in r and r[lvl][0] == "todo"
                )
                return
            made = [day for state, day in recorded.values() if state != "skipped"]
            if not missing:
                if made:
                    previous = (delay, max(made))
                continue
            if delay < 0 and today >= plan.due_date:
                reason = _("The due date passed before the courtesy notice.")
                plan.missed += [(level, reason) for level in missing]
                continue
            planned = plan.due_date + timedelta(days=delay)
            if previous:
                planned = max(
                    planned, previous[1] + timedelta(days=delay - previous[0])
                )
            plan.levels = missing
            plan.planned_date = planned
            return

    @api.model
    def _scan(self, company, today, partner_ids=None):
        """What the batch would do today, grouped into proposals.

        One proposal per customer, channel and kind (courtesy / reminder) lists
        all the customer's invoices due at that step. Customers whose
        unreconciled payments or credit notes cover their overdue amount are
        returned blocked, so the accountant reconciles before anybody chases.

        :return: list of :class:`Proposal`
        """
        moves, credits = self._read_open_receivables(company, partner_ids)
        plans = self._plan_moves(company, today, moves)
        # Read up front, so the query count does not depend on what is due.
        currency = company.currency_id
        min_amount = company.relance_min_amount
        currency.fetch(["rounding"])
        overdue = defaultdict(float)
        for move in moves.values():
            if move["due"] and move["due"] < today and not move["in_dispute"]:
                overdue[move["partner_id"]] += move["residual"]
        groups = {}
        for plan in plans:
            items = [(plan, level) for level, _reason in plan.missed]
            skip_reasons = dict(plan.missed)
            if plan.levels and plan.planned_date <= today:
                items += [(plan, level) for level in plan.levels]
            for item_plan, level in items:
                kind = "courtesy" if level.delay < 0 else "reminder"
                manual = level._is_manual()
                key = (
                    plan.partner_id,
                    level.channel,
                    kind,
                    manual,
                    level in skip_reasons,
                )
                proposal = groups.get(key)
                if not proposal:
                    proposal = groups[key] = Proposal(
                        partner_id=plan.partner_id,
                        channel=level.channel,
                        kind=kind,
                        manual=manual,
                        level=level,
                        items=[],
                        skip_reason=skip_reasons.get(level),
                    )
                proposal.items.append((item_plan, level))
                if (level.delay, level.sequence) > (
                    proposal.level.delay,
                    proposal.level.sequence,
                ):
                    proposal.level = level
        proposals = list(groups.values())
        for proposal in proposals:
            proposal.amount = sum(plan.amount for plan, _level in proposal.items)
            if proposal.skip_reason:
                continue
            credit = credits.get(proposal.partner_id, 0.0)
            if (
                credit
                and overdue.get(proposal.partner_id)
                and (
                    currency.compare_amounts(credit, overdue[proposal.partner_id]) >= 0
                )
            ):
                proposal.skip_reason = "blocked"
            elif currency.compare_amounts(proposal.amount, min_amount) < 0:
                proposal.skip_reason = _(
                    "The amount due at this step is below the minimum of %s.",
                    format_amount(self.env, min_amount, currency),
                )
        return proposals

    @api.model
    def _scan_thanks(self, company, today, partner_ids=None):
        """Invoices to thank for: fully paid, never thanked, and either reminded
        at least once or (per profile) paid within the last week.

        :return: ``{partner_id: [move_id, ...]}``
        """
        for model in ("account.move", "account.move.line", "relance.history"):
            self.env[model].flush_model()
        partner_filter = (
            SQL("AND m.commercial_partner_id = ANY(%s)", list(partner_ids))
            if partner_ids is not None
            else SQL()
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id, m.commercial_partner_id,
                       EXISTS(SELECT 1 FROM relance_history h
                               WHERE h.move_id = m.id AND h.kind = 'reminder'
                                 AND h.state = 'sent') AS reminded
                  FROM account_move m
                 WHERE m.company_id = %(company)s
                   AND m.state = 'posted'
                   AND m.move_type IN ('out_invoice', 'out_receipt')
                   AND m.payment_state IN ('paid', 'in_payment')
                   AND NOT EXISTS(SELECT 1 FROM relance_history t
                                   WHERE t.move_id = m.id AND t.kind = 'thanks')
                   AND (EXISTS(SELECT 1 FROM relance_history h
                                WHERE h.move_id = m.id AND h.kind = 'reminder'
                                  AND h.state = 'sent')
                        OR EXISTS(SELECT 1
                                    FROM account_move_line l
                                    JOIN account_partial_reconcile apr
                                      ON apr.debit_move_id = l.id
                                   WHERE l.move_id = m.id
                                  HAVING MAX(apr.max_date) >= %(since)s))
                   %(partner_filter)s
                """,
                company=company.id,
                since=today - timedelta(days=7),
                partner_filter=partner_filter,
            )
        )
        rows = self.env.cr.fetchall()
        partners = {
            partner.id: partner
            for partner in self.env["res.partner"]
            .with_company(company)
            .browse({r[1] for r in rows})
        }
        result = defaultdict(list)
        for move_id, partner_id, reminded in rows:
            partner = partners[partner_id]
            profile = partner._relance_get_profile(company)
            if not profile or partner.relance_excluded or profile.thank_you == "none":
                continue
            if profile.thank_you == "reminded" and not reminded:
                continue
            result[partner_id].append(move_id)
        return result

    # ------------------------------------------------------------------
    # Acting
    # ------------------------------------------------------------------

    @api.model
    def _run(
        self,
        company,
        today=None,
        partner_ids=None,
        exclude_keys=None,
        exclude_thanks=None,
    ):
        """Scan ``company`` and act on what is due: the daily batch, a manual run
        from the preview wizard, or a run for some customers.

        :param exclude_keys: proposal keys the user took out in the preview
        :param exclude_thanks: customers whose thank-you the user took out
        :return: :class:`RunStats`
        """
        today = today or fields.Date.context_today(self)
        self = self.with_company(company)
        proposals = [
            p
            for p in self._scan(company, today, partner_ids)
            if not exclude_keys or p.key not in exclude_keys
        ]
        thanks = self._scan_thanks(company, today, partner_ids)
        for partner_id in exclude_thanks or ():
            thanks.pop(partner_id, None)
        by_partner = defaultdict(list)
        for proposal in proposals:
            by_partner[proposal.partner_id].append(proposal)
        partner_ids_todo = sorted(set(by_partner) | set(thanks))
        stats = RunStats()
        batch_size = max(company.relance_batch_size or 50, 1)
        for start in range(0, len(partner_ids_todo), batch_size):
            batch = partner_ids_todo[start : start + batch_size]
            # A crash inside a batch rolls back that batch only; earlier batches
            # are committed, and a rerun finishes the job.
            with self.env.cr.savepoint():
                locked = self._lock_partners(batch)
                stats.locked += len(batch) - len(locked)
                for partner_id in batch:
                    if partner_id not in locked:
                        continue
                    stats.customers += 1
                    self._process_partner(
                        company,
                        today,
                        partner_id,
                        by_partner.get(partner_id, []),
                        thanks.get(partner_id, []),
                        stats,
                    )
            self._commit_batch()
            done = min(start + batch_size, len(partner_ids_todo))
            self.env["ir.cron"]._notify_progress(
                done=done, remaining=len(partner_ids_todo) - done
            )
        _logger.info("Dunning batch for %s on %s: %s", company.name, today, stats)
        return stats

    @api.model
    def _lock_partners(self, partner_ids):
        """Lock these customers for this transaction; skip those another worker
        holds, so two batches never serve the same customer at once.

        A customer another worker changed after this transaction's snapshot
        cannot be locked (serialization failure): it is skipped too, as the
        other worker served it.
        """
        try:
            with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                return self._select_for_update_skip_locked(partner_ids)
        except psycopg2.errors.SerializationFailure:
            locked = set()
            for partner_id in partner_ids:
                try:
                    with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                        locked |= self._select_for_update_skip_locked([partner_id])
                except psycopg2.errors.SerializationFailure:
                    continue
            return locked

    @api.model
    def _select_for_update_skip_locked(self, partner_ids):
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM res_partner
                 WHERE id = ANY(%s)
                   FOR NO KEY UPDATE SKIP LOCKED
                """,
                list(partner_ids),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _commit_batch(self):
        """Commit the batch just done, so a crash loses at most the next one.
        Never inside tests, where the test's transaction must stay whole."""
        testing = (
            config["test_enable"]
            or modules.module.current_test
            or getattr(threading.current_thread(), "testing", False)
        )
        if testing or self.env.context.get("relance_no_commit"):
            return
        self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _process_partner(
        self, company, today, partner_id, proposals, thank_move_ids, stats
    ):
        """Record and send what is due for one customer.

        An unexpected failure for one customer is recorded as an error with its
        reason; the batch goes on with the next customer.
        """
        partner = self.env["res.partner"].browse(partner_id)
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                for proposal in proposals:
                    self._process_proposal(company, today, partner, proposal, stats)
                if thank_move_ids:
                    self._process_thanks(company, today, partner, thank_move_ids, stats)
        except psycopg2.errors.UniqueViolation:
            # Another worker recorded these steps first: nothing to send twice.
            _logger.info("Dunning steps of partner %s already recorded", partner_id)
            self.env.invalidate_all()
        except Exception as error:  # noqa: BLE001 - one customer must not stop the batch
            _logger.exception("Dunning failed for partner %s", partner_id)
            self.env.invalidate_all()
            self._record_failure(company, today, partner, proposals, error, stats)

    @api.model
    def _prepare_history_vals(
        self, company, today, plan, level, proposal, state="todo"
    ):
        """Values of the history row of one invoice at one step (a hook)."""
        return {
            "company_id": company.id,
            "partner_id": plan.partner_id,
            "move_id": plan.move_id,
            "level_id": level.id,
            "profile_id": plan.profile.id,
            "kind": "courtesy" if level.delay < 0 else "reminder",
            "channel": level.channel,
            "state": state,
            "date": today,
            "cycle": plan.cycle,
            "due_date": plan.due_date,
            "days_overdue": (today - plan.due_date).days if plan.due_date else 0,
            "amount_residual": plan.amount_currency,
            "currency_id": plan.currency_id or company.currency_id.id,
            "amount_company": plan.amount,
        }

    @api.model
    def _prepare_communication_vals(self, company, today, partner, proposal):
        """Values of the communication of one proposal (a hook)."""
        return {
            "company_id": company.id,
            "partner_id": partner.id,
            "recipient_id": partner._relance_get_recipient().id,
            "level_id": proposal.level.id,
            "profile_id": proposal.level.profile_id.id,
            "kind": proposal.kind,
            "channel": proposal.channel,
            "tone": proposal.level.tone,
            "manual": proposal.manual,
            "date": today,
            "state": "todo",
        }

    @api.model
    def _process_proposal(self, company, today, partner, proposal, stats):
        History = self.env["relance.history"]
        if proposal.skip_reason == "blocked":
            stats.blocked += 1
            self._schedule_reconcile_activity(company, partner)
            return
        if proposal.skip_reason:
            History.create(
                [
                    dict(
                        self._prepare_history_vals(
                            company, today, plan, level, proposal, "skipped"
                        ),
                        reason=proposal.skip_reason,
                    )
                    for plan, level in proposal.items
                ]
            )
            self.env.cr.flush()
            stats.skipped += len(proposal.items)
            return
        rows = History.create(
            [
                self._prepare_history_vals(company, today, plan, level, proposal)
                for plan, level in proposal.items
            ]
        )
        # Raise a duplicate now, before anything is sent.
        self.env.cr.flush()
        waiting = self._get_waiting_communication(company, partner, proposal)
        if waiting:
            # One open task or unprinted letter per customer and channel: the
            # new invoices join it instead of piling up a second one.
            waiting._add_rows(rows, proposal.level)
            stats.merged += 1
            return
        comm = self.env["relance.communication"].create(
            dict(
                self._prepare_communication_vals(company, today, partner, proposal),
                history_ids=[fields.Command.set(rows.ids)],
            )
        )
        stats.communications += 1
        # Balances are read again now: a payment since the scan stops the step.
        comm._check_lines_still_due()
        if comm.state == "todo":
            comm._dispatch()
        stats.add_state(comm.state)

    @api.model
    def _get_waiting_communication(self, company, partner, proposal):
        """The customer's task or letter of this channel still waiting for a
        person, if any (a hook)."""
        if not (proposal.manual or proposal.channel in ("letter", "formal_notice")):
            return self.env["relance.communication"]
        return self.env["relance.communication"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "=", partner.id),
                ("channel", "=", proposal.channel),
                ("kind", "=", proposal.kind),
                ("manual", "=", proposal.manual),
                ("state", "=", "todo"),
            ],
            order="id desc",
            limit=1,
        )

    @api.model
    def _process_thanks(self, company, today, partner, move_ids, stats):
        moves = self.env["account.move"].browse(move_ids)
        profile = partner._relance_get_profile(company)
        rows = self.env["relance.history"].create(
            [
                {
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "move_id": move.id,
                    "profile_id": profile.id,
                    "kind": "thanks",
                    "channel": "email",
                    "date": today,
                    "due_date": move.invoice_date_due,
                    "amount_residual": move.amount_total,
                    "currency_id": move.currency_id.id,
                    "amount_company": abs(move.amount_total_signed),
                }
                for move in moves
            ]
        )
        self.env.cr.flush()
        comm = self.env["relance.communication"].create(
            {
                "company_id": company.id,
                "partner_id": partner.id,
                "recipient_id": partner._relance_get_recipient().id,
                "profile_id": profile.id,
                "kind": "thanks",
                "channel": "email",
                "tone": "positive",
                "date": today,
                "history_ids": [fields.Command.set(rows.ids)],
            }
        )
        stats.communications += 1
        comm._dispatch()
        stats.add_state(comm.state)

    @api.model
    def _record_failure(self, company, today, partner, proposals, error, stats):
        """Record the steps of a customer whose processing failed, in error."""
        reason = _("Unexpected error: %s", error)
        vals_list = [
            dict(
                self._prepare_history_vals(
                    company, today, plan, level, proposal, "error"
                ),
                reason=reason,
            )
            for proposal in proposals
            if not proposal.skip_reason
            for plan, level in proposal.items
        ]
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                self.env["relance.history"].create(vals_list)
        except psycopg2.errors.UniqueViolation:
            self.env.invalidate_all()
            return
        stats.errors += 1 if vals_list else 0

    @api.model
    def _schedule_reconcile_activity(self, company, partner):
        """Ask the accountant to reconcile the customer's payments or credit
        notes before any reminder (once, while the activity is open)."""
        activity_type = self.env.ref(
            "relance_avancee.mail_activity_type_relance_reconcile"
        )
        existing = self.env["mail.activity"].search_count(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("activity_type_id", "=", activity_type.id),
            ],
            limit=1,
        )
        if existing:
            return
        user = (
            partner.with_company(company).relance_collector_id
            or company.relance_default_collector_id
            or self.env.user
        )
        partner.activity_schedule(
            activity_type_id=activity_type.id,
            summary=_("Reconcile before reminding"),
            note=_(
                "%(partner)s has unreconciled payments or credit notes covering its "
                "overdue invoices: reconcile them; no reminder is sent meanwhile.",
                partner=partner.display_name,
            ),
            user_id=user.id,
        )

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_run_batch(self):
        """Daily dunning batch: every enabled company, everything due today."""
        companies = self.env["res.company"].search([("relance_enabled", "=", True)])
        for company in companies:
            self.with_company(company)._run(company)
