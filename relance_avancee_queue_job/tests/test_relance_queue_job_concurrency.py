import threading

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged

TIMEOUT = 30  # seconds: a thread that waits longer means a deadlock


@tagged("post_install", "-at_install")
class TestRelanceQueueJobConcurrentEnd(BaseCase):
    """The end of a run as workers see it: jobs in their own transactions,
    committed, at the same moment. (The other tests run in one transaction,
    where nothing is concurrent.)

    Each test works on a run of its own, on a day long past, and removes it.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].search([], order="id", limit=1)
            env["relance.run"].search(
                [("company_id", "=", company.id), ("date", "=", "1990-01-01")]
            ).unlink()
            run = env["relance.run"].create(
                {
                    "company_id": company.id,
                    "date": "1990-01-01",
                    "partner_ids_todo": [],
                    "customer_count": 2,
                    "position": 2,
                    "chunk_count": 2,
                    "state": "queued",
                }
            )
            jobs = [run.with_delay()._process_chunk_job(index, []) for index in (0, 1)]
            self.run_id = run.id
            self.uuids = [job.uuid for job in jobs]
            # Both jobs are being performed by two workers.
            self._set_job_states(env, "started", "started")
        self.addCleanup(self._remove_run)

    def _remove_run(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["queue.job"].search([("uuid", "in", self.uuids)]).unlink()
            env["relance.run"].browse(self.run_id).unlink()

    def _set_job_states(self, env, *states):
        for uuid, state in zip(self.uuids, states, strict=True):
            if state:
                env["queue.job"].search([("uuid", "=", uuid)]).state = state
        env.flush_all()

    def _run_state(self):
        with self.registry.cursor() as cr:
            cr.execute("SELECT state FROM relance_run WHERE id = %s", [self.run_id])
            return cr.fetchone()[0]

    def _in_thread(self, target, results, name):
        def run():
            try:
                results[name] = target()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                results[name] = error

        thread = threading.Thread(target=run, name=name)
        thread.start()
        return thread

    def _join(self, *threads):
        for thread in threads:
            thread.join(TIMEOUT)
            self.assertFalse(thread.is_alive(), f"{thread.name} is stuck")

    def test_two_last_jobs_ending_together_close_the_run_once(self):
        both_began = threading.Barrier(2, timeout=TIMEOUT)
        first_checked = threading.Event()
        results = {}

        def job(index, first):
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                # Both transactions take their snapshot before either ends:
                # in its own snapshot, each sees the other job still running.
                cr.execute("SELECT 1")
                both_began.wait()
                if not first:
                    first_checked.wait(TIMEOUT)
                run = (
                    env["relance.run"]
                    .browse(self.run_id)
                    .with_context(job_uuid=self.uuids[index])
                )
                closed = run._finish_queued_run()
                # queue_job marks the job done in the job's transaction.
                states = [None, None]
                states[index] = "done"
                self._set_job_states(env, *states)
                if first:
                    first_checked.set()
                    # The second job reaches the lock while this one is open.
                    threading.Event().wait(0.5)
                return closed

        first = self._in_thread(lambda: job(0, True), results, "first")
        second = self._in_thread(lambda: job(1, False), results, "second")
        self._join(first, second)
        self.assertEqual(results, {"first": False, "second": True})
        self.assertEqual(self._run_state(), "done")

    def test_close_tolerates_a_run_closed_since_its_transaction_began(self):
        began = threading.Event()
        closed_by_job = threading.Event()
        results = {}

        def cron():
            # The cron's check of runs left queued, begun before the last job
            # closed the run.
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                cr.execute("SELECT 1")
                began.set()
                closed_by_job.wait(TIMEOUT)
                closed = env["relance.run"].browse(self.run_id)._finish_queued_run()
                # The transaction is still usable afterwards.
                cr.execute("SELECT 1")
                return closed

        thread = self._in_thread(cron, results, "cron")
        began.wait(TIMEOUT)
        with self.registry.cursor() as cr:
            self._set_job_states(api.Environment(cr, SUPERUSER_ID, {}), "done", None)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            run = (
                env["relance.run"]
                .browse(self.run_id)
                .with_context(job_uuid=self.uuids[1])
            )
            self.assertTrue(run._finish_queued_run())
        closed_by_job.set()
        self._join(thread)
        self.assertIs(results["cron"], False)
        self.assertEqual(self._run_state(), "done")
