from odoo import api, fields, models

CALL_OUTCOMES = [
    ("reached", "Reached"),
    ("voicemail", "Voicemail"),
    ("wrong_number", "Wrong number"),
    ("dispute", "Dispute raised"),
    ("payment_sent", "Payment sent"),
    ("promise", "Promise made"),
    ("refused", "Refused to pay"),
]


class RelanceCall(models.Model):
    """One phone call to a customer about what it owes: who called whom,
    what came out of it and what follows. Logged by the call wizard, which
    also marks the phone step done and plans the next action."""

    _name = "relance.call"
    _description = "Dunning phone call"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        readonly=True,
        ondelete="cascade",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Called by",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    outcome = fields.Selection(CALL_OUTCOMES, required=True, readonly=True)
    contact_id = fields.Many2one("res.partner", string="Contact reached", readonly=True)
    note = fields.Text(readonly=True)
    next_date = fields.Date(string="Next action", readonly=True)
    communication_id = fields.Many2one(
        "relance.communication",
        string="Phone step",
        readonly=True,
        ondelete="set null",
        check_company=True,
    )
    promise_id = fields.Many2one(
        "relance.promise", readonly=True, ondelete="set null", check_company=True
    )
    dispute_id = fields.Many2one("relance.dispute", readonly=True, ondelete="set null")

    @api.depends("partner_id", "outcome", "date")
    def _compute_display_name(self):
        outcomes = dict(self._fields["outcome"]._description_selection(self.env))
        for call in self:
            call.display_name = (
                f"{call.partner_id.display_name or ''} – "
                f"{outcomes.get(call.outcome, '')}"
            )


class RelanceCommunication(models.Model):
    _inherit = "relance.communication"

    def action_log_call(self):
        """Log the call this phone step asks for."""
        self.ensure_one()
        return self.env["relance.call.wizard"]._action_open(
            self.partner_id, communication=self
        )


class RelanceCustomerBalance(models.Model):
    _inherit = "relance.customer.balance"

    def action_log_call(self):
        self.ensure_one()
        return self.env["relance.call.wizard"]._action_open(
            self.partner_id, company=self.company_id
        )
