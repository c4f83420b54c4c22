import subprocess
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import warmup

from odoo.addons.base.models.ir_actions_report import IrActionsReport

from .common import RelanceCommon

# Queries of the send path for one chunk of customers due a first reminder by
# email (lock, re-plan, history rows, communications, template rendering,
# messages, mails, notifications, the signatories), whatever the chunk's size.
QUERIES_PER_CHUNK = 43


class SimulatedCrash(BaseException):
    """A crash that no ``except Exception`` catches, like a killed worker."""


class RelanceBatchCommon(RelanceCommon):
    """Customers of one company, nobody else to chase."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.relance_enabled = True
        # The cron serves every enabled company: only this one here.
        cls.env["res.company"].search([("id", "!=", cls.company.id)]).write(
            {"relance_enabled": False}
        )

    def _cron_call(self, day="2026-04-03"):
        """One call of the cron, returning after one chunk (time budget spent)."""
        return self.env["relance.run"]._cron_step(
            today=fields.Date.to_date(day), deadline=0
        )

    def test_run_split_over_callbacks_serves_each_customer_once(self):
        self.company.relance_batch_size = 3
        partners = self._create_customers(10, "Split")
        with (
            freeze_time("2026-04-03"),
            patch.object(type(self.env["ir.cron"]), "_notify_progress") as progress,
        ):
            run = self._cron_call()
            self.assertEqual(run.customer_count, 10)
            self.assertEqual((run.position, run.state), (3, "running"))
            progress.assert_called_with(done=3, remaining=7)
            self.assertEqual(len(self._history(partners, kind="reminder")), 3)
            for _call in range(3):
                self._cron_call()
            self.assertEqual((run.position, run.state), (10, "done"))
            self.assertEqual(run.chunk_count, 4)
            progress.assert_called_with(done=10, remaining=0)
            # The day is finished: another call scans nothing and sends nothing.
            self._cron_call()
        self.assertEqual(self.env["relance.run"].search_count([]), 1)
        reminders = self._history(partners, kind="reminder")
        self.assertEqual(len(reminders), 10)
        self.assertEqual(set(reminders.mapped("state")), {"sent"})
        for partner in partners:
            self.assertEqual(len(self._mails(partner)), 1, partner.name)

    def test_call_crashing_after_a_commit_is_finished_by_the_next(self):
        self.company.relance_batch_size = 3
        partners = self._create_customers(7, "Crash")
        Dispatcher = type(self.env["relance.dispatcher"])
        original = Dispatcher._dispatch
        calls = []

        def crash_on_second_chunk(dispatcher, comms, *args, **kwargs):
            calls.append(comms.ids)
            if len(calls) == 2:
                raise SimulatedCrash()
            return original(dispatcher, comms, *args, **kwargs)

        with freeze_time("2026-04-03"):
            crashed = False
            with patch.object(Dispatcher, "_dispatch", crash_on_second_chunk):
                try:
                    self.env["relance.run"]._cron_step(
                        today=fields.Date.to_date("2026-04-03"), deadline=float("inf")
                    )
                except SimulatedCrash:
                    crashed = True
            self.assertTrue(crashed)
            run = self.env["relance.run"].search([])
            # The first chunk was committed with the run's progress.
            self.assertEqual((run.position, run.state), (3, "running"))
            self.assertEqual(len(self._history(partners, kind="reminder")), 3)
            while run.state != "done":
                self._cron_call()
        reminders = self._history(partners, kind="reminder")
        self.assertEqual(len(reminders), 7)
        for partner in partners:
            self.assertEqual(len(self._mails(partner)), 1, partner.name)

    def test_daily_runs_read_by_accountants_of_their_company_only(self):
        self._create_customers(2, "Visible")
        with freeze_time("2026-04-03"):
            run = self._cron_call()
        accountant = new_test_user(
            self.env,
            login="run_reader",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=self.company.ids,
        )
        other = self.setup_other_company()["company"]
        stranger = new_test_user(
            self.env,
            login="run_stranger",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=other.ids,
        )
        self.assertEqual(self.env["relance.run"].with_user(accountant).search([]), run)
        with self.assertRaises(AccessError):
            run.with_user(accountant).write({"position": 0})
        self.assertFalse(self.env["relance.run"].with_user(stranger).search([]))

    def test_follower_of_the_customer_receives_no_reminder(self):
        partner = self._create_customers(1, "Followed")
        follower = self.env["res.users"].create(
            {
                "name": "Sally Sales",
                "login": "sally_sales",
                "email": "sally@example.com",
                "groups_id": [Command.set(self.env.ref("base.group_user").ids)],
            }
        )
        partner.message_subscribe(partner_ids=follower.partner_id.ids)
        followers_before = partner.message_partner_ids
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        comm = self._history(partner, kind="reminder").communication_id
        message = comm.mail_message_id
        self.assertEqual(message.model, "res.partner")
        self.assertEqual(message.res_id, partner.id)
        self.assertEqual(message.partner_ids, partner)
        self.assertEqual(message.notification_ids.res_partner_id, partner)
        mails = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertEqual(mails.recipient_ids, partner)
        self.assertFalse(
            self.env["mail.mail"].search(
                [("recipient_ids", "in", follower.partner_id.ids)]
            )
        )
        # Nobody was subscribed by the sending.
        self.assertEqual(partner.message_partner_ids, followers_before)

    def test_template_rendered_in_batch_as_record_by_record(self):
        partners = self._create_customers(3, "Render", invoices=2)
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partners)
        comms = self._history(partners, kind="reminder").communication_id
        self.assertEqual(len(comms), 3)
        template = comms[0].level_id.mail_template_id
        fields_ = ("subject", "body_html")
        one_by_one = template._generate_template(comms.ids, fields_)
        batched = template.with_context(relance_render_batch=True)._generate_template(
            comms.ids, fields_
        )
        self.assertEqual(batched, one_by_one)
        for comm in comms:
            self.assertIn(comm.partner_id.name, batched[comm.id]["body_html"])

    def test_contacts_the_template_names_receive_it_internal_users_never(self):
        partner = self._create_customers(1, "Named")
        accounting = self.env["res.partner"].create(
            {
                "name": "Accounts payable",
                "parent_id": partner.id,
                "type": "contact",
                "email": "ap@named.example.com",
            }
        )
        colleague = self.env["res.users"].create(
            {
                "name": "Inès Internal",
                "login": "ines_internal",
                "email": "ines@example.com",
                "groups_id": [Command.set(self.env.ref("base.group_user").ids)],
            }
        )
        template = self.profile_sme.level_ids.filtered(
            lambda lvl: lvl.delay == 3
        ).mail_template_id
        template.partner_to = (
            "{{ (object.recipient_id or object.partner_id).id }},"
            f"{accounting.id},{colleague.partner_id.id}"
        )
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        message = self._history(
            partner, kind="reminder"
        ).communication_id.mail_message_id
        self.assertEqual(message.partner_ids, partner | accounting)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertEqual(mail.recipient_ids, partner | accounting)
        self.assertEqual(message.notification_ids.res_partner_id, partner | accounting)

    def test_stored_invoice_pdf_is_reused_missing_one_rendered_once(self):
        self.profile_sme.level_ids.filtered(lambda lvl: lvl.channel == "email").write(
            {"attach_invoice_pdf": True}
        )
        partner = self._create_customers(1, "Pdf", invoices=2)
        stored, missing = self.env["account.move"].search(
            [("partner_id", "=", partner.id)], order="id"
        )
        stored_pdf = self.env["ir.attachment"].create(
            {
                "name": "stored.pdf",
                "raw": b"%PDF-1.4 stored",
                "mimetype": "application/pdf",
                "res_model": "account.move",
                "res_id": stored.id,
                "res_field": "invoice_pdf_report_file",
            }
        )
        stored.invalidate_recordset(["invoice_pdf_report_id"])
        self.assertEqual(stored.invoice_pdf_report_id, stored_pdf)
        original = IrActionsReport._pre_render_qweb_pdf
        rendered = []

        def counting_render(report, report_ref, res_ids=None, data=None):
            rendered.append(list(res_ids or []))
            return original(report, report_ref, res_ids=res_ids, data=data)

        with patch.object(IrActionsReport, "_pre_render_qweb_pdf", counting_render):
            with freeze_time("2026-04-03"):
                # A real PDF, through wkhtmltopdf (Odoo returns HTML in tests
                # unless asked to render).
                self.engine.with_context(force_report_rendering=True)._run(
                    self.company, fields.Date.to_date("2026-04-03"), partner.ids
                )
            # Only the missing PDF was rendered, once, and kept on the invoice.
            self.assertEqual(rendered, [missing.ids])
            pdf = missing.invoice_pdf_report_id.raw
            self.assertTrue(pdf.startswith(b"%PDF"))
            text = subprocess.run(
                ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
            ).stdout.decode()
            self.assertIn(missing.name, text)
            mail = self._mails(partner)
            self.assertEqual(
                mail.attachment_ids,
                stored_pdf | missing.invoice_pdf_report_id,
            )
            # The next step reuses both: nothing rendered again.
            with freeze_time("2026-04-12"):
                self._run("2026-04-12", partner)
            self.assertEqual(rendered, [missing.ids])
        second = self._mails(partner)[-1]
        self.assertEqual(
            second.attachment_ids, stored_pdf | missing.invoice_pdf_report_id
        )
        self.assertEqual(len(self._history(partner, kind="reminder", state="sent")), 4)


@tagged("post_install", "-at_install")
class TestRelanceBatchQueries(RelanceBatchCommon):
    """The send path costs a bounded number of queries per customer,
    whatever the number of invoices each has."""

    def _count_chunk_queries(self, partners):
        today = fields.Date.to_date("2026-04-03")
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        stats = self.engine._act_chunk(self.company, today, partners.ids)
        self.env.flush_all()
        self.assertEqual(stats.sent, len(partners))
        return self.cr.sql_log_count - before

    def test_send_path_queries_per_customer_are_bounded(self):
        small = self._create_customers(10, "Small")
        large = self._create_customers(50, "Large")
        many = self._create_customers(10, "Many", invoices=4)
        warmup = self._create_customers(2, "Warm")
        with freeze_time("2026-04-03"):
            self._count_chunk_queries(warmup)
            small_count = self._count_chunk_queries(small)
            large_count = self._count_chunk_queries(large)
            many_count = self._count_chunk_queries(many)
        per_customer = (large_count - small_count) / 40
        self.assertLessEqual(per_customer, 0.5, (small_count, large_count))
        # Average over a chunk of 50, fixed costs included.
        self.assertLessEqual(large_count / 50, 3, large_count)
        # Four invoices each cost no more queries than one.
        self.assertLessEqual(many_count, small_count + 2, (small_count, many_count))

    @warmup
    def test_send_path_query_count_is_pinned(self):
        small = self._create_customers(10, "Pin")
        large = self._create_customers(50, "Pinned")
        warm = self._create_customers(2, "Warm")
        today = fields.Date.to_date("2026-04-03")
        with freeze_time(today):
            self.engine._act_chunk(self.company, today, warm.ids)
            self.env.flush_all()
            self.env.invalidate_all()
            # The same count for 10 customers as for 50: nothing is per customer.
            with self.assertQueryCount(QUERIES_PER_CHUNK):
                self.engine._act_chunk(self.company, today, small.ids)
                self.env.flush_all()
            self.env.invalidate_all()
            with self.assertQueryCount(QUERIES_PER_CHUNK):
                self.engine._act_chunk(self.company, today, large.ids)
                self.env.flush_all()
