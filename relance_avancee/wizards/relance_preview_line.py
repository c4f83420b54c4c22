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
    include = fields.Boolean(
        string="Send",
        default=True,
        help="Untick to leave this line out of the run; skipped lines and lines "
        "waiting for a reconciliation are never sent.",
    )
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
            ("paused", "Paused"),
        ],
        readonly=True,
    )
    move_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    invoice_count = fields.Integer(
        string="Invoices #",
        readonly=True,
        aggregator=None,
        help="The number of invoices this communication reminds.",
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(
        readonly=True,
        aggregator=None,
        help="The amount due on the invoices of this line; for a thank-you note, "
        "the amount paid.",
    )
    note = fields.Char(readonly=True)

    def _will_be_sent(self):
        """Whether the run sends this line: ticked, neither skipped nor
        waiting for a reconciliation."""
        self.ensure_one()
        return self.include and self.action not in ("skip", "blocked", "paused")

    def _get_amount_once(self):
        """The amount of these lines, the invoices of a customer counted once:
        steps sent on the same day by email and by SMS remind the same
        invoices twice."""
        seen = {}
        for line in self:
            seen[line.partner_id.id, frozenset(line.move_ids.ids)] = line.amount
        return sum(seen.values())
