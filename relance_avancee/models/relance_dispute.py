from odoo import _, api, fields, models
from odoo.exceptions import UserError

DISPUTE_REASONS = [
    ("wrong_goods", "Wrong goods"),
    ("late_delivery", "Late delivery"),
    ("not_compliant", "Invoice not compliant"),
    ("not_received", "Invoice not received"),
    ("price", "Price"),
    ("other", "Other"),
]


class RelanceDispute(models.Model):
    """A customer contests an invoice: reminders for it pause until resolved."""

    _name = "relance.dispute"
    _description = "Invoice dispute"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_open desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        tracking=True,
        ondelete="cascade",
        check_company=True,
        domain="[('move_type', 'in', ('out_invoice', 'out_receipt')), "
        "('state', '=', 'posted')]",
    )
    company_id = fields.Many2one(
        related="move_id.company_id", store=True, index=True, precompute=True
    )
    partner_id = fields.Many2one(
        related="move_id.commercial_partner_id",
        store=True,
        index=True,
        string="Customer",
    )
    reason = fields.Selection(DISPUTE_REASONS, required=True, tracking=True)
    owner_id = fields.Many2one(
        "res.users",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
    )
    note = fields.Html()
    state = fields.Selection(
        [("open", "Open"), ("accepted", "Accepted"), ("rejected", "Rejected")],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    date_open = fields.Date(
        string="Opened on",
        default=fields.Date.context_today,
        required=True,
        tracking=True,
    )
    date_resolved = fields.Date(string="Resolved on", readonly=True, tracking=True)
    resolution_note = fields.Text(tracking=True)
    credit_note_id = fields.Many2one(
        "account.move", string="Credit note", readonly=True, copy=False
    )

    @api.depends("move_id.name", "reason")
    def _compute_name(self):
        reasons = dict(self._fields["reason"]._description_selection(self.env))
        for dispute in self:
            dispute.name = (
                f"{dispute.move_id.name or ''} – {reasons.get(dispute.reason, '')}"
            )

    @api.model_create_multi
    def create(self, vals_list):
        disputes = super().create(vals_list)
        for dispute in disputes:
            if dispute.move_id.move_type not in ("out_invoice", "out_receipt"):
                raise UserError(_("Only customer invoices can be disputed."))
            dispute.move_id.message_post(
                body=_(
                    "Dispute opened by %(user)s: %(reason)s. Reminders for this "
                    "invoice are paused.",
                    # Whoever opened it for the customer (the portal names
                    # the customer's contact), else the current user.
                    user=self.env.context.get("relance_dispute_opened_by")
                    or self.env.user.name,
                    reason=dict(
                        self._fields["reason"]._description_selection(self.env)
                    )[dispute.reason],
                ),
                subtype_xmlid="mail.mt_note",
            )
        return disputes

    def action_accept(self):
        """The customer is right: open the credit note wizard for the invoice.
        The dispute is accepted when the credit note is created."""
        self.ensure_one()
        self._check_open()
        return {
            "type": "ir.actions.act_window",
            "name": _("Credit note"),
            "res_model": "account.move.reversal",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": "account.move",
                "active_ids": self.move_id.ids,
                "default_reason": self.name,
                "relance_dispute_id": self.id,
            },
        }

    def _accept_with_credit_note(self, credit_note):
        """Record the credit note that settles this dispute."""
        self.ensure_one()
        self.write(
            {
                "state": "accepted",
                "date_resolved": fields.Date.context_today(self),
                "credit_note_id": credit_note.id,
            }
        )
        self.move_id.message_post(
            body=_(
                "Dispute accepted by %(user)s: credit note %(credit_note)s.",
                user=self.env.user.name,
                credit_note=credit_note.display_name,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def action_reject(self):
        """The customer is wrong: reminders resume."""
        for dispute in self:
            dispute._check_open()
            dispute.write(
                {"state": "rejected", "date_resolved": fields.Date.context_today(self)}
            )
            dispute.move_id.message_post(
                body=_("Dispute rejected by %s: reminders resume.", self.env.user.name),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_reopen(self):
        for dispute in self:
            dispute.write({"state": "open", "date_resolved": False})
        return True

    def _check_open(self):
        for dispute in self:
            if dispute.state != "open":
                raise UserError(_("Dispute %s is already resolved.", dispute.name))
