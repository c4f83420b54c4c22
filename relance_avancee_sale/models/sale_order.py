from odoo import models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "relance.banner.mixin"]

    def _relance_get_banner_customer(self):
        # The customer's banner on its quotations and orders.
        self.ensure_one()
        return self.partner_id.commercial_partner_id
