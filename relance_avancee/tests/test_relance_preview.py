from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelancePreview(RelanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alpha = cls._create_customer("Alpha SA", cls.profile_sme)
        cls.beta = cls._create_customer("Beta SA", cls.profile_risk)
        cls.gamma = cls._create_customer("Gamma SA", cls.profile_sme)
        cls.alpha_invoice = cls._invoice(cls.alpha, 100.0, "2026-03-31")
        cls.beta_invoice = cls._invoice(cls.beta, 200.0, "2026-03-31")
        cls._invoice(cls.gamma, 300.0, "2026-03-31")
        cls._unreconciled_payment(cls.gamma, 300.0, "2026-04-01")

    def _open(self, partners=None):
        action = self.env["relance.preview.wizard"]._action_open(partners=partners)
        return self.env["relance.preview.wizard"].browse(action["res_id"])

    def test_preview_sends_nothing(self):
        with freeze_time("2026-04-03"):
            wizard = self._open(self.alpha | self.beta | self.gamma)
        self.assertFalse(self._history(self.alpha | self.beta | self.gamma))
        lines = wizard.line_ids
        alpha_line = lines.filtered(
            lambda line: line.partner_id == self.alpha and line.kind == "reminder"
        )
        self.assertEqual(alpha_line.action, "send")
        self.assertEqual(alpha_line.move_ids, self.alpha_invoice)
        self.assertEqual(alpha_line.amount, 100.0)
        beta_channels = lines.filtered(
            lambda line: line.partner_id == self.beta and line.kind == "reminder"
        ).mapped("channel")
        self.assertEqual(sorted(beta_channels), ["email", "sms"])
        gamma_line = lines.filtered(
            lambda line: line.partner_id == self.gamma and line.kind == "reminder"
        )
        self.assertEqual(gamma_line.action, "blocked")
        self.assertFalse(gamma_line.include)
        # The missed courtesy notices are shown as skipped, unticked.
        skipped = lines.filtered(lambda line: line.action == "skip")
        self.assertTrue(skipped)
        self.assertFalse(any(skipped.mapped("include")))

    def test_send_keeps_only_ticked_lines(self):
        with freeze_time("2026-04-03"):
            wizard = self._open(self.alpha | self.beta)
            beta_sms = wizard.line_ids.filtered(
                lambda line: line.partner_id == self.beta and line.channel == "sms"
            )
            beta_sms.include = False
            wizard.action_send()
        self.assertEqual(self._history(self.alpha, kind="reminder").state, "sent")
        self.assertEqual(
            self._history(self.beta, channel="email", kind="reminder").state, "sent"
        )
        self.assertFalse(self._history(self.beta, channel="sms"))
        self.assertIn("2 communication(s)", wizard.result)
        # The refreshed preview no longer shows what was sent.
        self.assertFalse(
            wizard.line_ids.filtered(
                lambda line: line.partner_id == self.alpha and line.kind == "reminder"
            )
        )

    def test_send_with_nothing_ticked_is_refused(self):
        with freeze_time("2026-04-03"):
            wizard = self._open(self.alpha)
            wizard.line_ids.include = False
            with self.assertRaises(UserError):
                wizard.action_send()

    def test_customer_button_previews_that_customer_only(self):
        with freeze_time("2026-04-03"):
            action = self.alpha.action_relance_preview()
        wizard = self.env["relance.preview.wizard"].browse(action["res_id"])
        self.assertEqual(wizard.line_ids.partner_id, self.alpha)

    def test_cron_runs_the_batch(self):
        cron = self.env.ref("relance_avancee.ir_cron_relance_run")
        with freeze_time("2026-04-03"):
            cron.method_direct_trigger()
        self.assertEqual(self._history(self.alpha, kind="reminder").state, "sent")
        self.assertEqual(
            self._history(self.beta, kind="reminder").mapped("state"), ["sent", "sent"]
        )

    def test_unticked_thank_you_is_not_sent(self):
        delta = self._create_customer("Delta SA", self.profile_sme)
        invoice = self._invoice(delta, 400.0, "2026-03-31")
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", delta)
        self._pay(invoice, "2026-04-05")
        with freeze_time("2026-04-06"):
            wizard = self._open(self.alpha | delta)
            thanks = wizard.line_ids.filtered(lambda line: line.kind == "thanks")
            self.assertEqual(thanks.partner_id, delta)
            thanks.include = False
            wizard.action_send()
        self.assertFalse(self._history(delta, kind="thanks"))
        self.assertEqual(self._history(self.alpha, kind="reminder").state, "sent")
