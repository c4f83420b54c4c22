from odoo import _, api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    relance_enabled = fields.Boolean(
        related="company_id.relance_enabled", readonly=False
    )
    relance_default_profile_id = fields.Many2one(
        related="company_id.relance_default_profile_id", readonly=False
    )
    relance_default_collector_id = fields.Many2one(
        related="company_id.relance_default_collector_id", readonly=False
    )
    relance_signatory_id = fields.Many2one(
        related="company_id.relance_signatory_id", readonly=False
    )
    relance_payment_days = fields.Integer(
        related="company_id.relance_payment_days", readonly=False
    )
    relance_formal_notice_days = fields.Integer(
        related="company_id.relance_formal_notice_days", readonly=False
    )
    relance_min_amount = fields.Monetary(
        related="company_id.relance_min_amount", readonly=False
    )
    relance_score_window_days = fields.Integer(
        related="company_id.relance_score_window_days", readonly=False
    )
    relance_batch_size = fields.Integer(
        related="company_id.relance_batch_size", readonly=False
    )
    relance_cron_time_limit = fields.Integer(
        related="company_id.relance_cron_time_limit", readonly=False
    )
    relance_indemnity_amount = fields.Monetary(
        related="company_id.relance_indemnity_amount", readonly=False
    )
    relance_digest_interval = fields.Selection(
        related="company_id.relance_digest_interval", readonly=False
    )
    relance_digest_weekday = fields.Selection(
        related="company_id.relance_digest_weekday", readonly=False
    )
    relance_digest_last_date = fields.Date(
        related="company_id.relance_digest_last_date"
    )
    relance_kpi_paid_days = fields.Integer(
        related="company_id.relance_kpi_paid_days", readonly=False
    )
    relance_interest_mode = fields.Selection(
        related="company_id.relance_interest_mode", readonly=False
    )
    relance_interest_margin = fields.Float(
        related="company_id.relance_interest_margin", readonly=False
    )
    relance_interest_rate_contractual = fields.Float(
        related="company_id.relance_interest_rate_contractual", readonly=False
    )
    relance_fees_account_id = fields.Many2one(
        related="company_id.relance_fees_account_id", readonly=False
    )
    relance_promise_max_days = fields.Integer(
        related="company_id.relance_promise_max_days", readonly=False
    )
    relance_reply_pause_days = fields.Integer(
        related="company_id.relance_reply_pause_days", readonly=False
    )
    relance_task_reminder_days = fields.Integer(
        related="company_id.relance_task_reminder_days", readonly=False
    )
    relance_task_escalation_days = fields.Integer(
        related="company_id.relance_task_escalation_days", readonly=False
    )
    relance_portal_link_days = fields.Integer(
        related="company_id.relance_portal_link_days", readonly=False
    )
    relance_interest_rate_warning = fields.Char(
        string="Late-payment rate warning",
        compute="_compute_relance_interest_rate_warning",
    )

    @api.depends("relance_interest_mode")
    def _compute_relance_interest_rate_warning(self):
        """Warn while today's half-year has no ECB rate: late interest is then
        computed at the latest known rate and marked provisional."""
        today = fields.Date.context_today(self)
        Rate = self.env["relance.interest.rate"]
        missing = Rate._is_missing(today)
        for settings in self:
            settings.relance_interest_rate_warning = (
                settings.relance_interest_mode == "legal"
                and missing
                and _(
                    "No ECB rate is entered for the current half-year: late "
                    "interest uses the latest known rate and is marked "
                    "provisional until you enter it."
                )
            )
