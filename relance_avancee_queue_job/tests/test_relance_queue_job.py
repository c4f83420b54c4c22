from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from odoo.addons.relance_avancee.tests.common import RelanceCommon

from .common import Job, JobCounter, JobMixin, RunJobController, trap_jobs

DAY = "2026-04-03"


@tagged("post_install", "-at_install")
class TestRelanceQueueJob(RelanceCommon, JobMixin):
    """With queue_job installed, the daily cron hands one job per chunk of
    customers to the job queue; the jobs serve every customer once and the
    last one closes the run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"relance_enabled": True, "relance_batch_size": 3})
        # The cron serves every enabled company: only this one here.
        cls.env["res.company"].search([("id", "!=", cls.company.id)]).write(
            {"relance_enabled": False}
        )
        cls.partners = cls._create_customers(10, "Queued")
        # A job counts the other jobs of its run in a new transaction, as it
        # must between workers; in test mode that cursor sees the test's data.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)

    def job_counter(self):
        # The jobs are the job queue managers' to read, not the accountant's.
        return JobCounter(self.env(su=True))

    def _cron_call(self):
        with freeze_time(DAY):
            return self.env["relance.run"]._cron_step(
                today=fields.Date.to_date(DAY), deadline=float("inf")
            )

    def _run_job(self, job_record):
        """Run a stored job as a queue_job worker does (without its commits)."""
        job = Job.load(self.env, job_record.uuid)
        job.set_started()
        job.store()
        with freeze_time(DAY):
            RunJobController._try_perform_job(self.env, job)
        job_record.invalidate_recordset()

    def _assert_each_customer_served_once(self):
        for partner in self.partners:
            reminders = self._history(partner, kind="reminder")
            self.assertEqual(len(reminders), 1, partner.name)
            self.assertEqual(reminders.state, "sent", partner.name)
            self.assertEqual(len(self._mails(partner)), 1, partner.name)

    def test_cron_hands_one_job_per_chunk_to_the_queue_and_sends_nothing(self):
        with trap_jobs() as trap:
            run = self._cron_call()
            trap.assert_jobs_count(4, only=run._process_chunk_job)
        prefix = f"relance_run:{self.company.id}:{DAY}"
        self.assertEqual(
            [call.properties["identity_key"] for call in trap.calls],
            [f"{prefix}:{index}" for index in range(4)],
        )
        self.assertEqual(
            {call.properties["channel"] for call in trap.calls}, {"root.relance"}
        )
        self.assertEqual([call.args[0] for call in trap.calls], [0, 1, 2, 3])
        chunks = [call.args[1] for call in trap.calls]
        self.assertEqual([len(chunk) for chunk in chunks], [3, 3, 3, 1])
        self.assertEqual(
            sorted(pid for chunk in chunks for pid in chunk), sorted(self.partners.ids)
        )
        trap.assert_enqueued_job(
            run._process_chunk_job,
            args=(3, chunks[3]),
            properties={"channel": "root.relance", "identity_key": f"{prefix}:3"},
        )
        self.assertEqual(
            (run.state, run.position, run.customer_count, run.chunk_count),
            ("queued", 10, 10, 4),
        )
        # The cron served nobody itself.
        self.assertFalse(self._history(self.partners))
        for partner in self.partners:
            self.assertFalse(self._mails(partner), partner.name)

    def test_jobs_serve_each_customer_once(self):
        with trap_jobs() as trap:
            self._cron_call()
            with freeze_time(DAY):
                trap.perform_enqueued_jobs()
        self._assert_each_customer_served_once()

    def test_job_performed_twice_sends_nothing_twice(self):
        with trap_jobs() as trap:
            self._cron_call()
            jobs = list(trap.enqueued_jobs)
            with freeze_time(DAY):
                trap.perform_enqueued_jobs()
                for job in jobs:
                    job.perform()
        self.assertIn("0 communications", jobs[0].result)
        self._assert_each_customer_served_once()

    def test_cron_called_again_the_same_day_delays_nothing_more(self):
        counter = self.job_counter()
        run = self._cron_call()
        jobs = counter.search_created()
        self.assertEqual(len(jobs), 4)
        self.assertEqual(jobs.relance_run_id, run)
        self.assertEqual(set(jobs.mapped("channel")), {"root.relance"})
        self.assertEqual(
            jobs.job_function_id,
            self.env.ref(
                "relance_avancee_queue_job.queue_job_function_relance_run_process_chunk_job"
            ),
        )
        self.assertEqual(len(set(jobs.mapped("identity_key"))), 4)
        self.assertEqual(run.queue_job_count, 4)
        # The run is the job queue's: the cron leaves it alone.
        with trap_jobs() as trap:
            self._cron_call()
            trap.assert_jobs_count(0)
        self._cron_call()
        self.assertEqual(counter.count_created(), 4)
        self.assertEqual(self.env["relance.run"].search_count([]), 1)
        self.assertEqual(run.state, "queued")
        # Even a run handed over again: its waiting jobs share their identity.
        run.sudo().write({"state": "running", "position": 0, "chunk_count": 0})
        run._serve(deadline=float("inf"))
        self.assertEqual(counter.count_created(), 4)
        self.assertFalse(self._history(self.partners))

    def test_run_done_when_its_last_job_is_done(self):
        counter = self.job_counter()
        run = self._cron_call()
        jobs = counter.search_created().sorted("id")
        for done, job in enumerate(jobs[:-1], start=1):
            self._run_job(job)
            self.assertEqual(job.state, "done")
            run.invalidate_recordset()
            self.assertEqual(run.state, "queued")
            self.assertEqual(run.progress, 25.0 * done)
        self.assertFalse(run.finished_at)
        self._run_job(jobs[-1])
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        self.assertTrue(run.finished_at)
        self.assertEqual(run.progress, 100.0)
        self.assertEqual(set(jobs.mapped("state")), {"done"})
        self.assertIn("1 customers served", jobs[-1].result)
        self._assert_each_customer_served_once()

    def test_run_whose_last_job_failed_is_closed_by_the_next_cron_call(self):
        counter = self.job_counter()
        run = self._cron_call()
        jobs = counter.search_created().sorted("id")
        for job in jobs[:-1]:
            self._run_job(job)
        failed = Job.load(self.env, jobs[-1].uuid)
        failed.set_failed(exc_name="OperationalError")
        failed.store()
        run.invalidate_recordset()
        self.assertEqual(run.state, "queued")
        self._cron_call()
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        self.assertEqual(counter.count_created(), 4)
