from odoo import fields, models


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
