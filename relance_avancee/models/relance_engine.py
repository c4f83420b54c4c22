"""The dunning executor: act, per chunk of customers, on what the planner says
is due.

The flow reads scan → plan → act. ``relance.planner`` only reads (what is due
today, for whom); this model takes a chunk of customers, locks them with one
``SKIP LOCKED`` statement, plans them again on fresh balances, records every
history row and communication of the chunk with one ``create`` per model and
hands the communications to ``relance.dispatcher``, which sends them per channel
in batch. The unique key of ``relance.history`` makes a step impossible to
record, hence to send, twice. Chunks commit one by one outside tests; the daily
cron goes through ``relance.run``, which keeps the day's progress.
"""

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import fields as dc_fields

import psycopg2.errors

from odoo import _, api, fields, models, modules
from odoo.tools import SQL, config, mute_logger

_logger = logging.getLogger(__name__)

# The database failing under a chunk (connection lost, serialization failure,
# deadlock, lock or statement timeout): no customer's fault. The chunk rolls
# back whole and is served again by the next run, never recorded as an error.
DATABASE_FAULTS = (psycopg2.OperationalError, psycopg2.InterfaceError)


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

    def add_state(self, state, count=1):
        attr = {
            "sent": "sent",
            "todo": "todo",
            "error": "errors",
            "cancelled": "cancelled",
        }
        setattr(self, attr[state], getattr(self, attr[state]) + count)

    def add(self, other):
        for fld in dc_fields(self):
            setattr(self, fld.name, getattr(self, fld.name) + getattr(other, fld.name))


class RelanceEngine(models.AbstractModel):
    _name = "relance.engine"
    _inherit = "relance.planner"
    _description = "Dunning engine (acts per chunk of customers)"

    # ------------------------------------------------------------------
    # Runs
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
        """Scan ``company`` and act on everything due, chunk after chunk: a
        manual run from the preview wizard, or a run for some customers. The
        daily cron goes through ``relance.run`` instead, which returns after
        each bounded chunk.

        :param exclude_keys: proposal keys the user took out in the preview
        :param exclude_thanks: customers whose thank-you the user took out
        :return: :class:`RunStats`
        """
        today = today or fields.Date.context_today(self)
        self = self.with_company(company)
        todo = self._get_partners_to_serve(
            company, today, partner_ids, exclude_keys, exclude_thanks
        )
        stats = RunStats()
        size = company._relance_get_chunk_size()
        for start in range(0, len(todo), size):
            self._act_chunk(
                company,
                today,
                todo[start : start + size],
                stats,
                exclude_keys=exclude_keys,
                exclude_thanks=exclude_thanks,
            )
            self._commit_chunk()
            # Each chunk reads what it needs afresh: memory stays flat.
            self.env.invalidate_all()
            done = min(start + size, len(todo))
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(todo) - done)
        _logger.info("Dunning batch for %s on %s: %s", company.name, today, stats)
        return stats

    @api.model
    def _get_partners_to_serve(
        self, company, today, partner_ids=None, exclude_keys=None, exclude_thanks=None
    ):
        """The customers with something to do today, in a stable order."""
        proposals, thanks = self._plan_chunk(
            company, today, partner_ids, exclude_keys, exclude_thanks
        )
        return sorted({p.partner_id for p in proposals} | set(thanks))

    @api.model
    def _act_chunk(
        self,
        company,
        today,
        partner_ids,
        stats=None,
        exclude_keys=None,
        exclude_thanks=None,
    ):
        """Serve one chunk of customers: render the invoice PDFs they need
        (before any lock), lock them, plan them on fresh balances, record and
        send.

        The chunk is recorded and sent in batch. Should anything unexpected
        fail, the chunk is done again customer by customer, so that one bad
        customer ends as an error row while the others are served.

        :return: :class:`RunStats` (``stats`` when given, updated)
        """
        stats = stats if stats is not None else RunStats()
        self = self.with_company(company)
        pdf_errors = self._prepare_invoice_pdfs(company, today, partner_ids)
        if pdf_errors:
            # What failed is said on the rows, not tried again under the locks.
            self = self.with_context(relance_pdf_errors=tuple(pdf_errors.items()))
        # A crash inside a chunk rolls back that chunk only; earlier chunks are
        # committed, and a rerun finishes the job.
        with self.env.cr.savepoint():
            locked = self._lock_partners(partner_ids)
            stats.locked += len(partner_ids) - len(locked)
            if not locked:
                return stats
            proposals, thanks = self._plan_chunk(
                company, today, sorted(locked), exclude_keys, exclude_thanks
            )
            served = {p.partner_id for p in proposals} | set(thanks)
            stats.customers += len(served)
            chunk_stats = RunStats()
            try:
                with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                    self._act(company, today, proposals, thanks, chunk_stats)
            except DATABASE_FAULTS:
                # The database failed, not a customer: the whole chunk rolls
                # back with the transaction and the next run serves it again.
                raise
            except Exception as error:  # noqa: BLE001 - redone one by one below
                if isinstance(error, psycopg2.errors.UniqueViolation):
                    _logger.info("Some dunning steps were recorded by another worker")
                else:
                    _logger.warning(
                        "Dunning chunk failed (%s): served customer by customer", error
                    )
                self.env.invalidate_all()
                chunk_stats = RunStats()
                by_partner = defaultdict(list)
                for proposal in proposals:
                    by_partner[proposal.partner_id].append(proposal)
                for partner_id in sorted(served):
                    self._act_partner(
                        company,
                        today,
                        partner_id,
                        by_partner.get(partner_id, []),
                        thanks.get(partner_id, []),
                        chunk_stats,
                    )
            stats.add(chunk_stats)
        return stats

    @api.model
    def _plan_chunk(self, company, today, partner_ids, exclude_keys, exclude_thanks):
        """What is due for these customers (all when ``None``), less what the
        user took out in the preview: ``(proposals, thanks)``. Read again for
        each locked chunk, so a payment or a dispute recorded since the run's
        scan stops their step."""
        proposals = [
            p
            for p in self._scan(company, today, partner_ids)
            if (not exclude_keys or p.key not in exclude_keys)
            # A paused customer's step waits for the end of the pause: it is
            # neither sent nor recorded as skipped.
            and p.skip_reason != "paused"
        ]
        thanks = self._scan_thanks(company, today, partner_ids)
        for partner_id in exclude_thanks or ():
            thanks.pop(partner_id, None)
        return proposals, thanks

    @api.model
    def _prepare_invoice_pdfs(self, company, today, partner_ids):
        """Render and store, before any lock, the invoice PDFs the emails of
        this chunk will attach (steps with *Attach invoice PDFs*), so the
        customers' rows are never locked while wkhtmltopdf works.

        :return: ``{move_id: error}`` of the PDFs that could not be rendered
        """
        if not self.env["relance.level"].search_count(
            [("company_id", "=", company.id), ("attach_invoice_pdf", "=", True)],
            limit=1,
        ):
            return {}
        moves = self.env["account.move"]
        for proposal in self._scan(company, today, partner_ids):
            if proposal.skip_reason or proposal.channel != "email":
                continue
            levels = self.env["relance.level"].union(
                *(level for _plan, level in proposal.items)
            )
            if any(levels.mapped("attach_invoice_pdf")):
                moves |= moves.browse([plan.move_id for plan, _level in proposal.items])
        if not moves:
            return {}
        errors = moves._relance_ensure_invoice_pdfs()
        # Keep what was rendered even if the chunk fails afterwards.
        self._commit_chunk()
        return errors

    @api.model
    def _act_partner(
        self, company, today, partner_id, proposals, thank_move_ids, stats
    ):
        """Record and send what is due for one customer (the slow, careful
        path of a chunk that failed in batch).

        An unexpected failure for this customer is recorded as an error with
        its reason; the chunk goes on with the next customer.
        """
        partner = self.env["res.partner"].browse(partner_id)
        thanks = {partner_id: thank_move_ids} if thank_move_ids else {}
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                self._act(company, today, proposals, thanks, stats)
        except psycopg2.errors.UniqueViolation:
            # Another worker recorded these steps first: nothing to send twice.
            _logger.info("Dunning steps of partner %s already recorded", partner_id)
            self.env.invalidate_all()
        except DATABASE_FAULTS:
            # Not this customer's fault: never recorded as its error (the row
            # would stop the step for good); the chunk is served again.
            raise
        except Exception as error:  # noqa: BLE001 - one customer must not stop the batch
            _logger.exception("Dunning failed for partner %s", partner_id)
            self.env.invalidate_all()
            self._record_failure(company, today, partner, proposals, error, stats)

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
    def _is_testing(self):
        return (
            config["test_enable"]
            or modules.module.current_test
            or getattr(threading.current_thread(), "testing", False)
        )

    @api.model
    def _commit_chunk(self):
        """Commit the chunk just done, so a crash loses at most the next one.
        Never inside tests, where the test's transaction must stay whole."""
        if self._is_testing() or self.env.context.get("relance_no_commit"):
            return
        self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------
    # Recording
    # ------------------------------------------------------------------

    @api.model
    def _act(self, company, today, proposals, thanks, stats):
        """Record and send, in batch, the proposals and thank-you messages of
        locked customers: one ``create`` per model, then one dispatch."""
        History = self.env["relance.history"]
        Communication = self.env["relance.communication"]
        partner_ids = {p.partner_id for p in proposals} | set(thanks)
        partners = self.env["res.partner"].browse(sorted(partner_ids))
        # Iterating keeps the prefetch of the whole chunk: one read for all.
        partner_by_id = {partner.id: partner for partner in partners}
        # Recipients and their contacts for the whole chunk in a few reads.
        partners.child_ids.mapped("type")
        blocked = [p for p in proposals if p.skip_reason == "blocked"]
        if blocked:
            stats.blocked += len(blocked)
            self.env["relance.dispatcher"]._schedule_reconcile_activities(
                company, partners.browse([p.partner_id for p in blocked])
            )
        skipped = [p for p in proposals if p.skip_reason and p.skip_reason != "blocked"]
        active = [p for p in proposals if not p.skip_reason]
        vals_list = [
            dict(
                self._prepare_history_vals(company, today, plan, level, p, "skipped"),
                reason=p.skip_reason,
            )
            for p in skipped
            for plan, level in p.items
        ]
        stats.skipped += len(vals_list)
        slices = []
        for proposal in active:
            start = len(vals_list)
            vals_list += [
                self._prepare_history_vals(company, today, plan, level, proposal)
                for plan, level in proposal.items
            ]
            slices.append((proposal, start, len(vals_list)))
        thank_moves = self.env["account.move"].browse(
            [move_id for move_ids in thanks.values() for move_id in move_ids]
        )
        thank_start = len(vals_list)
        vals_list += [
            self._prepare_thanks_history_vals(company, today, move)
            for move in thank_moves
        ]
        rows = History.create(vals_list)
        # Raise a duplicate now, before anything is sent.
        self.env.cr.flush()

        waiting = self._get_waiting_communications(company, partners, active)
        comm_vals = []
        for proposal, start, end in slices:
            proposal_rows = rows[start:end]
            comm = waiting.get(proposal.key)
            if comm:
                # One open task or unprinted letter per customer and channel:
                # the new invoices join it instead of piling up a second one.
                comm._add_rows(proposal_rows, proposal.level)
                stats.merged += 1
                continue
            comm_vals.append(
                dict(
                    self._prepare_communication_vals(
                        company, today, partner_by_id[proposal.partner_id], proposal
                    ),
                    history_ids=[fields.Command.set(proposal_rows.ids)],
                )
            )
        thank_rows = rows[thank_start:].grouped("partner_id")
        for partner_id in thanks:
            partner = partner_by_id[partner_id]
            comm_vals.append(
                self._prepare_thanks_communication_vals(
                    company, today, partner, thank_rows[partner]
                )
            )
        comms = Communication.create(comm_vals)
        stats.communications += len(comms)
        self.env["relance.dispatcher"]._dispatch(comms)
        for state, group in comms.grouped("state").items():
            stats.add_state(state, len(group))

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
    def _prepare_thanks_history_vals(self, company, today, move):
        """Values of the thank-you row of one paid invoice (a hook)."""
        partner = move.commercial_partner_id
        return {
            "company_id": company.id,
            "partner_id": partner.id,
            "move_id": move.id,
            "profile_id": partner._relance_get_profile(company).id,
            "kind": "thanks",
            "channel": "email",
            "date": today,
            "due_date": move.invoice_date_due,
            "amount_residual": move.amount_total,
            "currency_id": move.currency_id.id,
            "amount_company": abs(move.amount_total_signed),
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
    def _prepare_thanks_communication_vals(self, company, today, partner, rows):
        """Values of the thank-you message of one customer (a hook)."""
        return {
            "company_id": company.id,
            "partner_id": partner.id,
            "recipient_id": partner._relance_get_recipient().id,
            "profile_id": partner._relance_get_profile(company).id,
            "kind": "thanks",
            "channel": "email",
            "tone": "positive",
            "date": today,
            "history_ids": [fields.Command.set(rows.ids)],
        }

    @api.model
    def _get_waiting_communications(self, company, partners, proposals):
        """The customers' tasks and letters still waiting for a person, in one
        search: ``{(partner_id, channel, kind, manual): communication}``."""
        if not any(
            p.manual or p.channel in ("letter", "formal_notice") for p in proposals
        ):
            return {}
        comms = self.env["relance.communication"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "in", partners.ids),
                ("state", "=", "todo"),
                "|",
                ("manual", "=", True),
                ("channel", "in", ("letter", "formal_notice")),
            ],
            order="id",
        )
        # The newest wins, as it is the one a person is looking at.
        return {(c.partner_id.id, c.channel, c.kind, c.manual): c for c in comms}

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

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_run_batch(self):
        """Daily dunning batch: every enabled company, everything due today,
        one bounded chunk of customers after the other (see ``relance.run``)."""
        self.env["relance.run"]._cron_step()
