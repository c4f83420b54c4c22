from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        # Promises first: the score counts the promise the payment keeps.
        partials._relance_check_promises()
        partials._relance_update_partner_scores()
        return partials

    def unlink(self):
        lines = self.debit_move_id | self.credit_move_id
        res = super().unlink()
        lines.exists()._relance_update_partner_scores_from_lines()
        return res

    def _relance_update_partner_scores(self):
        """A payment reconciled (or unreconciled) changes its customer's payment
        behaviour: recompute the score at once, at the payment's real date."""
        (
            self.debit_move_id | self.credit_move_id
        )._relance_update_partner_scores_from_lines()

    def _relance_check_promises(self):
        """A payment reconciled with an invoice a promise to pay covers keeps
        the promise the day the payments cover it, not at the next nightly
        check."""
        moves = (self.debit_move_id | self.credit_move_id).move_id
        moves.filtered(
            lambda m: m.move_type in ("out_invoice", "out_receipt")
        )._relance_check_promises()
