from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def _relance_update_partner_scores_from_lines(self):
        receivable = self.filtered(
            lambda line: (
                line.account_id.account_type == "asset_receivable"
                and line.move_id.commercial_partner_id
            )
        )
        for company in receivable.company_id:
            partners = receivable.filtered(
                lambda line, c=company: line.company_id == c
            ).move_id.commercial_partner_id
            partners.sudo()._relance_update_scores(company)
