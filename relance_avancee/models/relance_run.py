"""The day's dunning run of a company: a bounded, resumable cron.

The first call of the day scans the ledger once and stores the customers to
serve. Every call then serves the next chunks, commits after each one (the
chunk's work and the run's progress in one transaction), reports
``_notify_progress`` and returns before its time budget is spent, so Odoo calls
it again until the day is done. A worker killed at any point loses at most the
chunk in progress, which the next call serves again: its steps were never
committed, hence never sent. A finished day does nothing.
"""

import logging
import time

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.tools import SQL, mute_logger

_logger = logging.getLogger(__name__)


class RelanceRun(models.Model):
    _name = "relance.run"
    _description = "Dunning batch run (one per company and day)"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    date = fields.Date(required=True, readonly=True, index=True)
    state = fields.Selection(
        [("running", "Running"), ("done", "Done")],
        default="running",
        required=True,
        readonly=True,
    )
    partner_ids_todo = fields.Json(
        string="Customers to serve",
        readonly=True,
        help="The customers the day's scan found something to do for, in the "
        "order they are served.",
    )
    customer_count = fields.Integer(string="Customers", readonly=True)
    position = fields.Integer(
        string="Customers served",
        readonly=True,
        help="How many of the day's customers have been served (committed).",
    )
    chunk_count = fields.Integer(string="Chunks", readonly=True)
    progress = fields.Float(compute="_compute_progress")
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "company_date_uniq",
            "UNIQUE(company_id, date)",
            "A company has one dunning run per day.",
        ),
    ]

    @api.depends("company_id", "date")
    def _compute_name(self):
        for run in self:
            run.name = _(
                "%(company)s – %(date)s", company=run.company_id.name, date=run.date
            )

    @api.depends("position", "customer_count", "state")
    def _compute_progress(self):
        for run in self:
            if run.state == "done" or not run.customer_count:
                run.progress = 100.0
            else:
                run.progress = 100.0 * run.position / run.customer_count

    def action_view_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_history_action"
        )
        action["domain"] = [
            ("company_id", "=", self.company_id.id),
            ("date", "=", self.date),
        ]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # The cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_step(self, today=None, deadline=None):
        """One call of the daily batch: start today's runs, then serve chunks
        until the time budget is spent, committing after each one, and report
        the progress so that Odoo calls again while customers remain."""
        today = today or fields.Date.context_today(self)
        companies = self.env["res.company"].search([("relance_enabled", "=", True)])
        runs = self.browse()
        for company in companies:
            runs |= self._get_or_start(company, today)
        if deadline is None:
            budget = max(companies.mapped("relance_cron_time_limit") or [60])
            deadline = time.monotonic() + max(budget, 1)
        for run in runs.filtered(lambda r: r.state == "running"):
            run._serve(deadline)
            if time.monotonic() >= deadline:
                break
        remaining = sum(
            run.customer_count - run.position for run in runs if run.state == "running"
        )
        self.env["ir.cron"]._notify_progress(
            done=sum(runs.mapped("position")), remaining=remaining
        )
        return runs

    @api.model
    def _get_or_start(self, company, today):
        """Today's run of ``company``: the existing one, or a new one whose
        customers come from one scan of the ledger."""
        run = self.search(
            [("company_id", "=", company.id), ("date", "=", today)], limit=1
        )
        if run:
            return run
        engine = self.env["relance.engine"].with_company(company)
        partner_ids = engine._get_partners_to_serve(company, today)
        try:
            # sudo: the run is the batch's own bookkeeping, written by the batch
            # only (users have read access); what it serves is checked per chunk.
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                run = (
                    self.sudo()
                    .create(
                        {
                            "company_id": company.id,
                            "date": today,
                            "partner_ids_todo": partner_ids,
                            "customer_count": len(partner_ids),
                            "started_at": fields.Datetime.now(),
                            "state": "running" if partner_ids else "done",
                            "finished_at": False
                            if partner_ids
                            else fields.Datetime.now(),
                        }
                    )
                    .sudo(False)
                )
        except psycopg2.errors.UniqueViolation:
            # Another worker started the day at the same moment: use its run.
            self.env.invalidate_all()
            return self.search(
                [("company_id", "=", company.id), ("date", "=", today)], limit=1
            )
        engine._commit_chunk()
        return run

    def _serve(self, deadline):
        """Serve this run's next chunks until done or past ``deadline``."""
        self.ensure_one()
        engine = self.env["relance.engine"]
        while self.state != "done":
            if not self._lock():
                # Another worker is serving this run right now.
                return
            self.invalidate_recordset()
            if self.state == "done":
                return
            chunk = self._get_next_chunk()
            self._process_chunk(chunk)
            position = self.position + len(chunk)
            vals = {"position": position, "chunk_count": self.chunk_count + 1}
            if position >= self.customer_count:
                vals.update(state="done", finished_at=fields.Datetime.now())
            # sudo: the batch's own bookkeeping (see _get_or_start).
            self.sudo().write(vals)
            # The chunk's work and the run's progress commit together.
            engine._commit_chunk()
            # Each chunk reads what it needs afresh: memory stays flat.
            self.env.invalidate_all()
            if time.monotonic() >= deadline:
                return

    def _lock(self):
        """Lock this run's row; ``False`` when another worker holds it, or
        changed it since this transaction began (it is serving the run)."""
        self.flush_recordset()
        try:
            with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                self.env.cr.execute(
                    SQL(
                        """
                        SELECT id FROM relance_run
                         WHERE id = %s
                           FOR NO KEY UPDATE SKIP LOCKED
                        """,
                        self.id,
                    )
                )
                return bool(self.env.cr.fetchone())
        except psycopg2.errors.SerializationFailure:
            return False

    def _get_next_chunk(self):
        """The next customers of this run, at most one chunk."""
        return next(iter(self._get_chunks()), [])

    def _get_chunks(self):
        """The customers not served yet, split into chunks (for job queues)."""
        self.ensure_one()
        size = self.company_id._relance_get_chunk_size()
        todo = list(self.partner_ids_todo or [])[self.position :]
        return [todo[i : i + size] for i in range(0, len(todo), size)]

    def _process_chunk(self, partner_ids):
        """Serve these customers of the run: lock, re-read, record and send.

        Safe to call twice for the same customers: what was recorded is not
        recorded again.
        """
        self.ensure_one()
        stats = (
            self.env["relance.engine"]
            .with_company(self.company_id)
            ._act_chunk(self.company_id, self.date, partner_ids)
        )
        _logger.info(
            "Dunning run %s: chunk of %s customers served: %s",
            self.display_name,
            len(partner_ids),
            stats,
        )
        return stats
