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
            # sudo: a payment reconciled by any accountant moves the score of
            # the invoice's customer, a company-dependent field of a contact
            # billing users may not write; only the score is written.
            partners.sudo()._relance_update_scores(company)
