from odoo import fields, models


class RelanceKpiDashboardLevel(models.TransientModel):
    """One step's line on the KPI dashboard: steps sent in the period and the
    share of their invoices paid within the company's window."""

    _name = "relance.kpi.dashboard.level"
    _description = "Dunning KPIs: step line"
    _order = "id"

    dashboard_id = fields.Many2one(
        "relance.kpi.dashboard", required=True, ondelete="cascade", index=True
    )
    level_id = fields.Many2one("relance.level", string="Step", readonly=True)
    profile_id = fields.Many2one(related="level_id.profile_id")
    tone = fields.Selection(related="level_id.tone")
    channel = fields.Selection(related="level_id.channel")
    sent_count = fields.Integer(string="Sent", readonly=True)
    pending_count = fields.Integer(
        string="Window open",
        readonly=True,
        help="Sent less than the window ago and not paid yet: not counted in the "
        "share.",
    )
    paid_count = fields.Integer(string="Paid within window", readonly=True)
    share = fields.Float(
        string="Share paid (%)",
        digits=(16, 2),
        readonly=True,
        help="Paid within the window / (sent − window open) × 100.",
    )
