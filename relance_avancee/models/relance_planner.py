"""The dunning planner: what is due, for whom, today. It only reads.

Reading is grouped (one query for the open receivables of all customers, one
for their history, one for their partners), so the scan costs the same number
of queries for 10 or 10,000 customers. The batch (``relance.engine``), the
preview, the customer form and the letter reports all ask it; none of them
repeats its rules.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, format_amount


@dataclass(frozen=True)
class StepLevel:
    """What the planner needs of one level, read once per scan (plain values:
    planning thousands of invoices never goes through record fields)."""

    id: int
    delay: int
    sequence: int
    channel: str
    manual: bool
    record: object  # the relance.level record
    missed_reason: str = ""  # why it is skipped when its moment passed


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
    missed: list = field(default_factory=list)  # [(StepLevel, reason)] to skip
    waiting: object = None  # relance.level recordset still to do by a person
    step: tuple = ()  # StepLevel of each of ``levels``
    paused_until: date | None = None  # the customer's reminders wait till then
    resume_date: date | None = None  # a broken promise: next step due at once


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
    paused_until: date | None = None  # skip_reason "paused": until this day

    @property
    def key(self):
        return (self.partner_id, self.channel, self.kind, self.manual)


class RelancePlanner(models.AbstractModel):
    _name = "relance.planner"
    _description = "Dunning planner (what is due)"

    # ------------------------------------------------------------------
    # Reading: what is due
    # ------------------------------------------------------------------

    @api.model
    def _get_partner_filter(self, partner_ids):
        """The SQL condition on the customer of ``account_move m`` (all of them
        when ``partner_ids`` is ``None``)."""
        if partner_ids is None:
            return SQL()
        return SQL("AND m.commercial_partner_id = ANY(%s)", list(partner_ids))

    @api.model
    def _get_open_items_sql(self, company, partner_ids=None):
        """``FROM … WHERE …`` of the open receivable lines (alias ``l``) of
        ``company``'s customers, with their move ``m`` and account ``a``:
        posted, not reconciled, something left to pay or to allocate. One
        definition for the planner and the customer statement."""
        return SQL(
            """
              FROM account_move_line l
              JOIN account_move m ON m.id = l.move_id
              JOIN account_account a ON a.id = l.account_id
             WHERE l.company_id = %(company)s
               AND l.parent_state = 'posted'
               AND m.state = 'posted'
               AND a.account_type = 'asset_receivable'
               AND NOT l.reconciled
               AND l.amount_residual != 0
               AND m.commercial_partner_id IS NOT NULL
               %(partner_filter)s
            """,
            company=company.id,
            partner_filter=self._get_partner_filter(partner_ids),
        )

    @api.model
    def _read_open_receivables(self, company, partner_ids=None):
        """Open receivable items of ``company`` in one grouped query.

        :return: ``(moves, credits, credits_by_currency)`` where ``moves``
            maps a move id to its aggregated open debit (partner, due date,
            residuals, currency, cycle, dispute flag, pause and resume
            dates), ``credits`` maps a
            commercial partner to the total of its unreconciled credits
            (payments, credit notes) in company currency, and
            ``credits_by_currency`` the same per currency id, in that currency.
        """
        for model in ("account.move.line", "account.move", "res.partner"):
            self.env[model].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT l.move_id,
                       m.commercial_partner_id,
                       m.relance_cycle,
                       m.relance_in_dispute,
                       m.relance_pause_until,
                       m.relance_resume_date,
                       MIN(l.date_maturity) FILTER (WHERE l.amount_residual > 0),
                       SUM(l.amount_residual) FILTER (WHERE l.amount_residual > 0),
                       SUM(l.amount_residual_currency)
                           FILTER (WHERE l.amount_residual > 0),
                       MIN(l.currency_id),
                       SUM(l.amount_residual) FILTER (WHERE l.amount_residual < 0),
                       SUM(l.amount_residual_currency)
                           FILTER (WHERE l.amount_residual < 0)
                  %(open_items)s
              GROUP BY l.move_id, m.commercial_partner_id, m.relance_cycle,
                       m.relance_in_dispute, m.relance_pause_until,
                       m.relance_resume_date
                """,
                open_items=self._get_open_items_sql(company, partner_ids),
            )
        )
        moves = {}
        credits = defaultdict(float)
        credits_by_currency = defaultdict(lambda: defaultdict(float))
        for (
            move_id,
            partner_id,
            cycle,
            in_dispute,
            pause_until,
            resume_date,
            due,
            residual,
            residual_currency,
            currency_id,
            credit,
            credit_currency,
        ) in self.env.cr.fetchall():
            if credit:
                credits[partner_id] += -credit
                credits_by_currency[partner_id][
                    currency_id or company.currency_id.id
                ] += -(credit_currency or credit)
            if residual:
                moves[move_id] = {
                    "partner_id": partner_id,
                    "cycle": cycle or 1,
                    "in_dispute": in_dispute,
                    "pause_until": pause_until,
                    "resume_date": resume_date,
                    "due": due,
                    "residual": residual,
                    "residual_currency": residual_currency or residual,
                    "currency_id": currency_id,
                }
        return moves, credits, credits_by_currency

    @api.model
    def _get_overdue_by_partner(self, moves, today):
        """What each customer owes past its due dates, in company currency,
        disputed invoices left out: ``{partner_id: amount}``."""
        overdue = defaultdict(float)
        for move in moves.values():
            if move["due"] and move["due"] < today and not move["in_dispute"]:
                overdue[move["partner_id"]] += move["residual"]
        return overdue

    @api.model
    def _is_covered(self, company, credit, overdue):
        """Whether unreconciled payments or credit notes (``credit``) cover
        the overdue amount: then nobody is reminded before the accountant
        reconciles, as a reminder would destroy our credibility."""
        return bool(
            credit
            and overdue
            and company.currency_id.compare_amounts(credit, overdue) >= 0
        )

    @api.model
    def _read_profiles(self, company, partner_ids):
        """The profile that reminds each of these customers in ``company``
        (``False`` for a customer excluded from dunning or handed over to
        collection), in one grouped query however many they are:
        ``{partner_id: relance.profile}``."""
        return self._read_partner_states(company, partner_ids)[0]

    @api.model
    def _read_partner_states(self, company, partner_ids, today=None):
        """What the planner needs of these customers in ``company``, in one
        grouped query however many they are: ``(profiles, pauses)``, where
        ``profiles`` is :meth:`_read_profiles`'s answer and ``pauses`` maps the
        customers whose reminders are paused on ``today`` (a reply to a
        reminder) to the last day of their pause."""
        groups = (
            self.env["res.partner"]
            .with_company(company)
            .with_context(active_test=False)
            ._read_group(
                [("id", "in", list(partner_ids))],
                [
                    "relance_profile_id",
                    "relance_excluded",
                    "relance_handover_state",
                    "relance_pause_until:day",
                ],
                ["id:array_agg"],
            )
        )
        default = company.relance_default_profile_id
        profiles, pauses = {}, {}
        for profile, excluded, handover, pause_until, ids in groups:
            for partner_id in ids:
                profiles[partner_id] = (
                    not excluded and handover != "handed_over" and (profile or default)
                )
            if pause_until and today and fields.Date.to_date(pause_until) >= today:
                pauses.update(dict.fromkeys(ids, fields.Date.to_date(pause_until)))
        return profiles, pauses

    @api.model
    def _read_done_steps(self, move_ids):
        """``{move_id: {(level_id, cycle): (state, date)}}`` of recorded steps
        (a cancelled step is not: it is to do again)."""
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
                   AND state != 'cancelled'
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
    def _get_plan_steps(self, profile):
        """The scenario of ``profile`` as ``[(delay, (StepLevel, ...),
        levels)]``: :meth:`_get_steps` with each level's facts read once."""
        courtesy_missed = _("The due date passed before the courtesy notice.")
        return [
            (
                delay,
                tuple(
                    StepLevel(
                        id=level.id,
                        delay=level.delay,
                        sequence=level.sequence,
                        channel=level.channel,
                        manual=level._is_manual(),
                        record=level,
                        missed_reason=courtesy_missed if level.delay < 0 else "",
                    )
                    for level in levels
                ),
                levels,
            )
            for delay, levels in self._get_steps(profile)
        ]

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
        moves = self._read_open_receivables(company, partner_ids)[0]
        return self._plan_moves(company, today, moves)

    @api.model
    def _is_paused(self, move, today):
        """Whether an open promise to pay, a payment plan or an annotation
        pauses this open item (see :meth:`_read_open_receivables`) on
        ``today``: until its date included, the reminders resuming the day
        after."""
        return bool(move["pause_until"] and move["pause_until"] >= today)

    @api.model
    def _plan_moves(self, company, today, moves, ignore_pause=False):
        """Plan the next step of these open items (see :meth:`_plan`).
        Invoices in dispute, and paused ones unless ``ignore_pause`` (the
        preview asks what a pause holds back), are left out. A customer whose
        reminders are paused (it replied to one) keeps its plans, marked
        paused: the preview and the customer say until when."""
        profiles, pauses = self._read_partner_states(
            company, {m["partner_id"] for m in moves.values()}, today
        )
        done = self._read_done_steps(list(moves))
        steps_by_profile = {}
        empty = self.env["relance.level"]
        plans = []
        for move_id, move in moves.items():
            if move["in_dispute"]:
                continue
            if not ignore_pause and self._is_paused(move, today):
                continue
            partner_id = move["partner_id"]
            profile = profiles.get(partner_id)
            if not profile:
                continue
            if profile not in steps_by_profile:
                steps_by_profile[profile] = (
                    self._get_plan_steps(profile) if profile.active else None
                )
            steps = steps_by_profile[profile]
            if steps is None:
                continue
            plan = MovePlan(
                move_id=move_id,
                partner_id=partner_id,
                profile=profile,
                due_date=move["due"],
                amount=move["residual"],
                amount_currency=move["residual_currency"],
                currency_id=move["currency_id"],
                cycle=move["cycle"],
                levels=empty,
                paused_until=pauses.get(partner_id),
                resume_date=move.get("resume_date"),
            )
            self._plan_next_step(plan, steps, done.get(move_id, {}), today)
            if plan.levels or plan.missed or plan.waiting:
                plans.append(plan)
        return plans

    @api.model
    def _plan_next_step(self, plan, steps, done, today):
        """Fill ``plan.levels``/``planned_date`` with the first unfinished step.

        :param steps: the profile's scenario (see :meth:`_get_plan_steps`)
        :param done: ``{(level_id, cycle): (state, date)}`` of the invoice
        """
        previous = None  # (delay, date) of the last step really made
        cycle = plan.cycle
        for delay, levels, records in steps:
            recorded = {}
            for level in levels:
                row = done.get((level.id, cycle))
                if row and row[0] != "cancelled":
                    recorded[level.id] = row
            if any(state == "todo" for state, _day in recorded.values()):
                # A step still waiting for a person (a call, a letter to print,
                # a manual sending) holds the scenario: nothing escalates past it.
                plan.waiting = records.browse(
                    [lid for lid, (state, _day) in recorded.items() if state == "todo"]
                )
                return
            missing = tuple(level for level in levels if level.id not in recorded)
            if not missing:
                made = [day for state, day in recorded.values() if state != "skipped"]
                if made:
                    previous = (delay, max(made))
                continue
            if delay < 0 and today >= plan.due_date:
                plan.missed += [(level, level.missed_reason) for level in missing]
                continue
            planned = plan.due_date + timedelta(days=delay)
            if previous:
                planned = max(
                    planned, previous[1] + timedelta(days=delay - previous[0])
                )
            resume = plan.resume_date
            if resume and delay >= 0 and (not previous or previous[1] < resume):
                # A broken promise: the scenario resumes at once with its next
                # step, not after the step's delay or the scenario's spacing.
                planned = min(planned, max(resume, plan.due_date))
            plan.levels = (
                records
                if len(missing) == len(levels)
                else records.browse([level.id for level in missing])
            )
            plan.step = missing
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
        moves, credits, _by_currency = self._read_open_receivables(company, partner_ids)
        plans = self._plan_moves(company, today, moves)
        # Read up front, so the query count does not depend on what is due.
        currency = company.currency_id
        min_amount = company.relance_min_amount
        currency.fetch(["rounding"])
        overdue = self._get_overdue_by_partner(moves, today)
        groups = {}
        for plan in plans:
            items = list(plan.missed)
            if plan.step and plan.planned_date <= today:
                items += [(level, None) for level in plan.step]
            for level, skip_reason in items:
                kind = "courtesy" if level.delay < 0 else "reminder"
                key = (
                    plan.partner_id,
                    level.channel,
                    kind,
                    level.manual,
                    skip_reason is not None,
                )
                proposal = groups.get(key)
                if not proposal:
                    proposal = groups[key] = Proposal(
                        partner_id=plan.partner_id,
                        channel=level.channel,
                        kind=kind,
                        manual=level.manual,
                        level=level,
                        items=[],
                        skip_reason=skip_reason,
                    )
                proposal.items.append((plan, level.record))
                if (level.delay, level.sequence) > (
                    proposal.level.delay,
                    proposal.level.sequence,
                ):
                    proposal.level = level
        proposals = list(groups.values())
        for proposal in proposals:
            proposal.level = proposal.level.record
            proposal.amount = sum(plan.amount for plan, _level in proposal.items)
            if proposal.skip_reason:
                continue
            paused_until = proposal.items[0][0].paused_until
            if paused_until:
                # Nothing is recorded while paused: the step waits, it is not
                # skipped (see relance.engine._plan_chunk).
                proposal.skip_reason = "paused"
                proposal.paused_until = paused_until
            elif self._is_covered(
                company,
                credits.get(proposal.partner_id, 0.0),
                overdue.get(proposal.partner_id, 0.0),
            ):
                proposal.skip_reason = "blocked"
            elif currency.compare_amounts(proposal.amount, min_amount) < 0:
                proposal.skip_reason = _(
                    "The amount due at this step is below the minimum of %s.",
                    format_amount(self.env, min_amount, currency),
                )
        return proposals

    @api.model
    def _scan_paused(self, company, today, partner_ids=None):
        """The open items a pause (a promise to pay, an annotation) holds back
        today although their next step is due: what the preview shows as
        paused, and why.

        :return: list of :class:`MovePlan` whose step would be made today
        """
        moves = self._read_open_receivables(company, partner_ids)[0]
        paused = {
            move_id: move
            for move_id, move in moves.items()
            if self._is_paused(move, today)
        }
        if not paused:
            return []
        plans = self._plan_moves(company, today, paused, ignore_pause=True)
        return [plan for plan in plans if plan.step and plan.planned_date <= today]

    @api.model
    def _scan_thanks(self, company, today, partner_ids=None):
        """Invoices to thank for: fully paid, never thanked, and either reminded
        at least once or (per profile) paid within the last week.

        :return: ``{partner_id: [move_id, ...]}``
        """
        for model in ("account.move", "account.move.line", "relance.history"):
            self.env[model].flush_model()
        partner_filter = self._get_partner_filter(partner_ids)
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
        profiles = self._read_profiles(company, {r[1] for r in rows})
        result = defaultdict(list)
        for move_id, partner_id, reminded in rows:
            profile = profiles.get(partner_id)
            if not profile or profile.thank_you == "none":
                continue
            if profile.thank_you == "reminded" and not reminded:
                continue
            result[partner_id].append(move_id)
        return result
