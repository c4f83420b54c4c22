from odoo import models


class AccountMoveReversal(models.TransientModel):
    _inherit = "account.move.reversal"

    def reverse_moves(self, is_modify=False):
        action = super().reverse_moves(is_modify=is_modify)
        dispute_id = self.env.context.get("relance_dispute_id")
        if dispute_id and self.new_move_ids:
            # The credit note settles the accepted dispute it came from.
            dispute = self.env["relance.dispute"].browse(dispute_id)
            dispute._accept_with_credit_note(self.new_move_ids[:1])
        return action
