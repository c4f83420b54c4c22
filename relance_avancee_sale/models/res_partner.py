from odoo import api, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _relance_sees_all_customers(self):
        # Salespeople allowed to see all documents see every customer's dunning,
        # as they see every customer's invoices and orders.
        return super()._relance_sees_all_customers() or self.env.user.has_group(
            "sales_team.group_sale_salesman_all_leads"
        )
