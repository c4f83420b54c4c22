from odoo import api, fields, models


class RelanceBannerMixin(models.AbstractModel):
    """The overdue banner of a customer on every record that belongs to one:
    the customer itself, its invoices and, with the Sales bridge, its
    quotations and orders. It says how much is overdue and how late, where the
    scenario stands, and the open disputes; it shows only what the current user
    may see of that customer (see ``res.partner._relance_filter_visible``)."""

    _name = "relance.banner.mixin"
    _description = "Overdue banner"

    relance_banner = fields.Html(
        string="Overdue banner",
        compute="_compute_relance_banner",
        sanitize=False,  # rendered by QWeb, every value escaped (t-out)
    )

    @api.depends_context("uid", "company", "lang")
    def _compute_relance_banner(self):
        customers = {record: record._relance_get_banner_customer() for record in self}
        partners = self.env["res.partner"].union(*customers.values())
        banners = partners._relance_render_banners()
        for record in self:
            record.relance_banner = banners.get(customers[record].id, False)

    def _relance_get_banner_customer(self):
        """The commercial partner whose banner this record shows (an empty
        recordset: no banner). Each model using the mixin says which."""
        self.ensure_one()
        return self.env["res.partner"]

    def action_relance_banner_invoices(self):
        """The customer's overdue invoices."""
        self.ensure_one()
        customer = self._relance_get_banner_customer()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update(
            {
                "domain": [
                    ("commercial_partner_id", "=", customer.id),
                    ("move_type", "in", ("out_invoice", "out_receipt")),
                    ("state", "=", "posted"),
                    ("amount_residual", ">", 0),
                    ("invoice_date_due", "<", fields.Date.context_today(self)),
                ],
                "context": {"create": False},
                "display_name": customer.display_name,
            }
        )
        return action

    def action_relance_banner_history(self):
        """The customer's reminder history."""
        self.ensure_one()
        return self._relance_get_banner_customer().action_view_relance_history()
