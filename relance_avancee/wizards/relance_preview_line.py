from odoo import fields, models

from ..models.relance_level import CHANNELS


class RelancePreviewLine(models.TransientModel):
    """One communication the next batch would make."""

    _name = "relance.preview.line"
    _description = "Dunning preview line"
    _order = "partner_id, channel, id"

    wizard_id = fields.Many2one(
        "relance.preview.wizard", required=True, ondelete="cascade"
    )
    include = fields.Boolean(default=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    level_id = fields.Many2one("relance.level", string="Step", readonly=True)
    profile_id = fields.Many2one(related="level_id.profile_id")
    channel = fields.Selection(CHANNELS, readonly=True)
    kind = fields.Selection(
        [
            ("courtesy", "Courtesy notice"),
            ("reminder", "Reminder"),
            ("thanks", "Thank-you"),
        ],
        readonly=True,
    )
    manual = fields.Boolean(string="Task for a person", readonly=True)
    action = fields.Selection(
        [
            ("send", "Send"),
            ("task", "Activity"),
            ("print", "Print queue"),
            ("skip", "Skip"),
            ("blocked", "Reconcile first"),
        ],
        readonly=True,
    )
    move_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    invoice_count = fields.Integer(string="Invoices #", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(string="Amount due", readonly=True)
    note = fields.Char(readonly=True)
