from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

ANNOTATION_KINDS = [
    ("blocked", "Blocked at the customer"),
    ("not_received", "Invoice not received"),
    ("decision_maker", "Decision-maker back on a date"),
    ("payment_planned", "Payment planned on a date"),
    ("other", "Other"),
]


class RelanceAnnotation(models.Model):
    """A dated, signed note a collector keeps on one invoice after talking to
    the customer (blocked at the customer, invoice not received, decision-maker
    back next week…). With a date and *Pause reminders*, it pauses that
    invoice's reminders until then (see ``account.move.relance_pause_until``)."""

    _name = "relance.annotation"
    _description = "Invoice annotation"
    _order = "create_date desc, id desc"
    _check_company_auto = True

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        ondelete="cascade",
        domain="[('move_type', 'in', ('out_invoice', 'out_receipt')), "
        "('state', '=', 'posted')]",
    )
    company_id = fields.Many2one(
        related="move_id.company_id", store=True, index=True, precompute=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        related="move_id.commercial_partner_id",
        store=True,
        index=True,
        precompute=True,
    )
    kind = fields.Selection(
        ANNOTATION_KINDS, string="Type", required=True, default="other"
    )
    date = fields.Date(
        help="The day the annotation speaks of: the decision-maker is back, the "
        "payment is planned…",
    )
    pause_reminders = fields.Boolean(
        string="Pause reminders",
        help="Pause this invoice's reminders until the date included: they "
        "resume the day after.",
    )
    note = fields.Text()
    user_id = fields.Many2one(
        "res.users",
        string="Author",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )

    @api.depends("kind", "move_id")
    def _compute_display_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for annotation in self:
            # sudo: the invoice's number only, for someone who sees its
            # annotation (a salesperson may not read invoices).
            annotation.display_name = _(
                "%(invoice)s: %(kind)s",
                invoice=annotation.move_id.sudo().name or "",
                kind=labels.get(annotation.kind, ""),
            )

    @api.constrains("pause_reminders", "date")
    def _check_pause_date(self):
        for annotation in self:
            if annotation.pause_reminders and not annotation.date:
                raise ValidationError(
                    _("Give a date to pause the reminders of an invoice until then.")
                )

    @api.constrains("move_id")
    def _check_customer_invoice(self):
        # sudo: a collector without accounting rights annotates invoices it
        # cannot open; only the invoice's type is read.
        for annotation in self.sudo():
            if annotation.move_id.move_type not in ("out_invoice", "out_receipt"):
                raise ValidationError(
                    _(
                        "Only customer invoices can be annotated, not %s.",
                        annotation.move_id.display_name,
                    )
                )

    def _get_pause_reason(self):
        """Why this annotation pauses its invoice, in words."""
        self.ensure_one()
        labels = dict(self._fields["kind"]._description_selection(self.env))
        reason = labels.get(self.kind, "")
        if self.note:
            reason = _("%(kind)s: %(note)s", kind=reason, note=self.note)
        return reason
