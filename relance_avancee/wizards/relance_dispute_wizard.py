from odoo import fields, models

from ..models.relance_dispute import DISPUTE_REASONS


class RelanceDisputeWizard(models.TransientModel):
    """Flag an invoice as disputed by the customer."""

    _name = "relance.dispute.wizard"
    _description = "Flag a dispute"

    move_id = fields.Many2one("account.move", string="Invoice", required=True)
    reason = fields.Selection(DISPUTE_REASONS, required=True)
    owner_id = fields.Many2one(
        "res.users", required=True, default=lambda self: self.env.user
    )
    note = fields.Html()

    def action_confirm(self):
        """Open the dispute: the invoice's reminders pause until it is resolved."""
        self.ensure_one()
        dispute = self.env["relance.dispute"].create(
            {
                "move_id": self.move_id.id,
                "reason": self.reason,
                "owner_id": self.owner_id.id,
                "note": self.note,
            }
        )
        return dispute._get_records_action(name=dispute.display_name)
