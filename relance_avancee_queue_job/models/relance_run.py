"""The day's dunning run handed to OCA's job queue: one job per chunk.

Without this addon the daily cron serves the chunks of a run one after the
other, in bounded calls. With it, the cron still starts the day (one scan of
the ledger, ``relance_avancee``), then hands every chunk to the job queue as a
job of its own: as many Odoo workers as the channel allows serve them in
parallel, each chunk in its own transaction, and the cron serves nothing.

The run is then *Handed to the job queue*: the cron leaves it alone. It is
closed by the last of its jobs to finish: each job, once its chunk is served,
looks at the state of the run's other jobs (``queue.job``) and only the last one
writes the run, so parallel jobs never update the same row at the same time.
"""

import logging

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.tools import SQL, mute_logger

_logger = logging.getLogger(__name__)

#: the states after which a job does not run again by itself
FINISHED_JOB_STATES = ("done", "failed", "cancelled")
#: the channel of the chunk jobs when their job function is not configured
DEFAULT_CHANNEL = "root.relance"


class RelanceRun(models.Model):
    _inherit = "relance.run"

    state = fields.Selection(
        selection_add=[("queued", "Handed to the job queue"), ("done",)],
        ondelete={"queued": "set default"},
    )
    queue_job_ids = fields.One2many(
        "queue.job",
        "relance_run_id",
        string="Chunk jobs",
        readonly=True,
        groups="queue_job.group_queue_job_manager",
    )
    queue_job_count = fields.Integer(string="Jobs", compute="_compute_queue_job_count")

    def _compute_queue_job_count(self):
        # sudo: counting the jobs of a run the user may read; the job queue
        # itself stays reserved to its managers.
        counts = dict(
            self.env["queue.job"]
            .sudo()
            ._read_group(
                [("relance_run_id", "in", self.ids)],
                ["relance_run_id"],
                ["__count"],
            )
        )
        for run in self:
            run.queue_job_count = counts.get(run, 0)

    @api.depends("queue_job_ids.state")
    def _compute_progress(self):
        """A run handed to the job queue progresses as its jobs finish."""
        res = super()._compute_progress()
        queued = self.filtered(lambda run: run.state == "queued")
        if not queued:
            return res
        # sudo: see _compute_queue_job_count.
        groups = (
            self.env["queue.job"]
            .sudo()
            ._read_group(
                [("relance_run_id", "in", queued.ids)],
                ["relance_run_id", "state"],
                ["__count"],
            )
        )
        total, finished = {}, {}
        for run, state, count in groups:
            total[run.id] = total.get(run.id, 0) + count
            if state in FINISHED_JOB_STATES:
                finished[run.id] = finished.get(run.id, 0) + count
        for run in queued:
            if total.get(run.id):
                run.progress = 100.0 * finished.get(run.id, 0) / total[run.id]
            else:
                run.progress = 0.0
        return res

    def action_view_queue_jobs(self):
        """The jobs that serve this run's chunks."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "queue_job.action_queue_job"
        )
        action["domain"] = [("relance_run_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # The cron hands the chunks over
    # ------------------------------------------------------------------

    @api.model
    def _cron_step(self, today=None, deadline=None):
        """Close first the runs whose jobs all ended without closing them (the
        last one failed, or was cancelled or set done by hand), then start and
        hand over today's runs."""
        # Before super(): the jobs delayed by this call are not committed yet,
        # so the runs handed over now must not be looked at in this call.
        for run in self.search([("state", "=", "queued")]):
            run._finish_queued_run()
        return super()._cron_step(today=today, deadline=deadline)

    def _serve(self, deadline):
        """Hand this run's remaining chunks to the job queue instead of serving
        them in the cron callback. A run already handed over is the job
        queue's: it is not served again."""
        self.ensure_one()
        if self.state != "running":
            return
        if not self._lock():
            # Another worker is serving or handing over this run right now.
            return
        self.invalidate_recordset()
        if self.state != "running":
            return
        self._enqueue_chunks()
        # The jobs and the run's new state commit together: a crash before
        # this point leaves the run running, and the next call hands it over.
        self.env["relance.engine"]._commit_chunk()

    def _enqueue_chunks(self):
        """Delay one job per chunk of the customers not served yet and mark
        the run handed to the job queue.

        :return: the number of jobs delayed
        """
        self.ensure_one()
        chunks = self._get_chunks()
        first_index = self.chunk_count
        chunk_total = first_index + len(chunks)
        vals = {"position": self.customer_count, "chunk_count": chunk_total}
        if chunks:
            vals["state"] = "queued"
        else:
            vals.update(state="done", finished_at=fields.Datetime.now())
        # Written before the jobs are delayed, so a job run at once (queue_job's
        # no-delay mode) finds its run already handed over.
        # sudo: the batch's own bookkeeping (see relance_avancee).
        self.sudo().write(vals)
        for offset, partner_ids in enumerate(chunks):
            index = first_index + offset
            options = self._prepare_chunk_job_options(index, chunk_total, partner_ids)
            self.with_delay(**options)._process_chunk_job(index, partner_ids)
        _logger.info(
            "Dunning run %s: %s chunk(s) handed to the job queue",
            self.display_name,
            len(chunks),
        )
        return len(chunks)

    def _prepare_chunk_job_options(self, chunk_index, chunk_total, partner_ids):
        """The ``with_delay()`` options of the job serving one chunk.

        The identity key (company, day, chunk) keeps a chunk from being
        delayed twice while its job waits.
        """
        self.ensure_one()
        return {
            "channel": self._get_chunk_job_channel(),
            "identity_key": self._get_chunk_job_identity_key(chunk_index),
            "description": _(
                "Dunning run %(run)s: chunk %(index)s of %(total)s "
                "(%(customers)s customers)",
                run=self.display_name,
                index=chunk_index + 1,
                total=chunk_total,
                customers=len(partner_ids),
            ),
        }

    def _get_chunk_job_identity_key(self, chunk_index):
        self.ensure_one()
        return f"relance_run:{self.company_id.id}:{self.date}:{chunk_index}"

    @api.model
    def _get_chunk_job_channel(self):
        """The channel set on the chunk jobs' function (``root.relance``,
        shipped by this addon), so that an administrator can move them."""
        # sudo: the job functions are system configuration; only the channel
        # of our own function is read.
        Function = self.env["queue.job.function"].sudo()
        config = Function.job_config(
            Function.job_function_name(self._name, "_process_chunk_job")
        )
        return config.channel if config.job_function_id else DEFAULT_CHANNEL

    # ------------------------------------------------------------------
    # The jobs
    # ------------------------------------------------------------------

    def _process_chunk_job(self, chunk_index, partner_ids):
        """Job: serve one chunk of the run's customers, then close the run
        when no other job of it is left.

        Safe to run twice (a retried or requeued job): what was recorded is
        not recorded, hence not sent, again.
        """
        self.ensure_one()
        # The job queue commits the job's transaction when the job ends; a
        # commit inside it would release the job's lock (queue_job forbids it).
        stats = self.with_context(relance_no_commit=True)._process_chunk(partner_ids)
        self._finish_queued_run()
        return _(
            "Chunk %(index)s: %(customers)s customers served, "
            "%(communications)s communications (%(sent)s sent, %(errors)s in error)",
            index=chunk_index + 1,
            customers=stats.customers,
            communications=stats.communications,
            sent=stats.sent,
            errors=stats.errors,
        )

    def _job_store_values(self, job):
        """Link a chunk's job to its run (queue_job calls this when it stores
        a job; its per-method variant would be overridden by this generic
        one, hence the test on the method)."""
        vals = super()._job_store_values(job)
        if job.method_name == "_process_chunk_job":
            vals = dict(vals, relance_run_id=self.id)
        return vals

    def _finish_queued_run(self):
        """Close this run if it is handed to the job queue and none of its
        jobs, other than the one running this, is waiting or running.

        Two jobs of the run ending at the same moment must not both see the
        other one still running: the run's row is locked first (the second job
        waits here until the first commits), and the other jobs are counted in
        a new transaction, which sees what was committed meanwhile. Only the
        last job writes the run.

        :return: whether the run was closed
        """
        self.ensure_one()
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                self.env.cr.execute(
                    SQL(
                        "SELECT state FROM relance_run WHERE id = %s FOR NO KEY UPDATE",
                        self.id,
                    )
                )
                row = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            # The run changed since this transaction began: whoever changed it
            # closed it.
            return False
        if not row or row[0] != "queued":
            return False
        unfinished = self._get_unfinished_job_count(self.env.context.get("job_uuid"))
        if unfinished:
            return False
        # sudo: the batch's own bookkeeping (see relance_avancee).
        self.sudo().write({"state": "done", "finished_at": fields.Datetime.now()})
        _logger.info("Dunning run %s: every chunk job has ended", self.display_name)
        return True

    def _get_unfinished_job_count(self, exclude_uuid=None):
        """How many jobs of this run are waiting or running, as committed now
        (a new transaction: this one's snapshot may be older than the other
        jobs' ends), leaving out the job ``exclude_uuid``."""
        self.ensure_one()
        self.env["queue.job"].flush_model(["relance_run_id", "state", "uuid"])
        query = SQL(
            """
            SELECT count(*) FROM queue_job
             WHERE relance_run_id = %s
               AND state NOT IN %s
               AND uuid IS DISTINCT FROM %s
            """,
            self.id,
            FINISHED_JOB_STATES,
            exclude_uuid,
        )
        with self.env.registry.cursor() as cr:
            cr.execute(query)
            return cr.fetchone()[0]
