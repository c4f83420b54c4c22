from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount

from ..models.relance_call import CALL_OUTCOMES
from ..models.relance_dispute import DISPUTE_REASONS

PROMISE_OUTCOMES = ("promise", "payment_sent")


class RelanceCallWizard(models.TransientModel):
    """Log a phone call to a customer: its outcome, the contact reached, a
    note and the next action, with what the collector needs to prepare it on
    the same screen (open invoices, reminder history).

    Logging marks the customer's phone step done (its history rows sent), notes
    the call in the customer's chatter and plans what follows: a promise to
    pay, a dispute, a call back.
    """

    _name = "relance.call.wizard"
    _description = "Log a dunning phone call"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    communication_id = fields.Many2one(
        "relance.communication",
        string="Phone step",
        check_company=True,
        domain="[('partner_id', '=', partner_id), ('channel', '=', 'phone'), "
        "('state', '=', 'todo')]",
        help="The scenario's phone step this call makes: it is marked done.",
    )
    outcome = fields.Selection(CALL_OUTCOMES, required=True, default="reached")
    contact_id = fields.Many2one(
        "res.partner",
        string="Contact reached",
        domain="[('commercial_partner_id', '=', partner_id)]",
    )
    note = fields.Text()
    next_date = fields.Date(
        string="Next action on",
        help="A follow-up activity is planned for you on this day.",
    )
    promise_date = fields.Date(
        string="Pays by",
        help="The day the customer promised to pay, or the day the payment it "
        "says it sent should arrive.",
    )
    promise_amount = fields.Monetary(string="Amount", currency_field="currency_id")
    promise_move_ids = fields.Many2many(
        "account.move",
        "relance_call_wizard_promise_move_rel",
        string="Invoices covered",
        help="Empty: all the customer's overdue invoices.",
    )
    dispute_move_id = fields.Many2one("account.move", string="Contested invoice")
    dispute_reason = fields.Selection(DISPUTE_REASONS, string="Reason")
    open_move_ids = fields.Many2many(
        "account.move",
        string="Open invoices",
        compute="_compute_open_move_ids",
    )
    history_ids = fields.Many2many(
        "relance.history",
        string="Recent reminders",
        compute="_compute_history_ids",
    )
    annotation_ids = fields.Many2many(
        "relance.annotation",
        string="Annotations",
        compute="_compute_annotation_ids",
    )

    @api.depends("partner_id", "company_id")
    def _compute_open_move_ids(self):
        for wizard in self:
            wizard.open_move_ids = wizard._get_open_moves()

    @api.depends("partner_id")
    def _compute_history_ids(self):
        for wizard in self:
            wizard.history_ids = wizard.partner_id._relance_get_recent_history()

    @api.depends("partner_id", "company_id")
    def _compute_annotation_ids(self):
        for wizard in self:
            wizard.annotation_ids = self.env["relance.annotation"].search(
                [("move_id", "in", wizard._get_open_moves().ids)],
                order="create_date desc, id desc",
            )

    def _get_open_moves(self):
        self.ensure_one()
        return self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("move_type", "in", ("out_invoice", "out_receipt")),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ],
            order="invoice_date_due, id",
        )

    @api.model
    def _action_open(self, partner, communication=None, company=None):
        """The call wizard on ``partner`` (its commercial entity) in
        ``company`` (the current one by default), making ``communication`` or
        else the customer's pending phone step."""
        partner = partner.commercial_partner_id
        company = (
            (communication and communication.company_id) or company or self.env.company
        )
        if not communication:
            communication = self.env["relance.communication"].search(
                [
                    ("partner_id", "=", partner.id),
                    ("company_id", "=", company.id),
                    ("channel", "=", "phone"),
                    ("state", "=", "todo"),
                ],
                order="date, id",
                limit=1,
            )
        overdue = partner.with_company(company).relance_total_overdue
        return {
            "type": "ir.actions.act_window",
            "name": _("Log a call: %s", partner.display_name),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_partner_id": partner.id,
                "default_company_id": company.id,
                "default_communication_id": communication.id,
                "default_promise_amount": overdue,
            },
        }

    # ------------------------------------------------------------------
    # Logging
    # ------------------------------------------------------------------

    def _check_values(self):
        """Refuse what a person could not have meant, in words they read."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.next_date and self.next_date < today:
            raise UserError(_("The next action cannot be planned in the past."))
        if self.contact_id and (
            self.contact_id.commercial_partner_id != self.partner_id
        ):
            raise UserError(
                _(
                    "%(contact)s is not a contact of %(customer)s.",
                    contact=self.contact_id.display_name,
                    customer=self.partner_id.display_name,
                )
            )
        comm = self.communication_id
        if comm and (
            comm.partner_id != self.partner_id
            or comm.channel != "phone"
            or comm.state != "todo"
        ):
            raise UserError(
                _("%s is not a phone step waiting for this customer.", comm.name)
            )
        if self.outcome in PROMISE_OUTCOMES:
            if not self.promise_date:
                raise UserError(_("Say by which date the customer pays."))
            if self.promise_date < today:
                raise UserError(_("The payment date cannot be in the past."))
            if self.currency_id.compare_amounts(self.promise_amount, 0.0) <= 0:
                raise UserError(_("The promised amount must be positive."))
            others = self.promise_move_ids.filtered(
                lambda m: m not in self._get_open_moves()
            )
            if others:
                raise UserError(
                    _(
                        "A promise covers open invoices of the customer only, not %s.",
                        ", ".join(others.mapped("display_name")),
                    )
                )
        if self.outcome == "dispute":
            if not self.dispute_move_id or not self.dispute_reason:
                raise UserError(_("Say which invoice is contested and why."))
            if self.dispute_move_id not in self._get_open_moves():
                raise UserError(
                    _(
                        "%s is not an open invoice of this customer.",
                        self.dispute_move_id.display_name,
                    )
                )

    def _get_env_for_writes(self):
        """The environment the call is recorded with: the dunning team logs
        any customer's call; anybody else only the phone step assigned to them
        (a key account's salesperson)."""
        if self.env.user.has_group("relance_avancee.group_relance_user"):
            return self.env
        comm = self.communication_id
        if not comm or comm.user_id != self.env.user:
            raise AccessError(
                _(
                    "Only the dunning team may log calls to %s: no phone step of "
                    "this customer is assigned to you.",
                    self.partner_id.display_name,
                )
            )
        # sudo: checked just above, the user is the phone step's responsible;
        # the call, its promise or dispute and the step are written as theirs.
        return comm._relance_as_actor().env

    def action_log(self):
        self.ensure_one()
        self._check_values()
        env = self._get_env_for_writes()
        partner = self.partner_id.with_env(env)
        promise = env["relance.promise"]
        dispute = env["relance.dispute"]
        if self.outcome in PROMISE_OUTCOMES:
            promise = promise.create(
                {
                    "company_id": self.company_id.id,
                    "partner_id": partner.id,
                    "contact_id": self.contact_id.id,
                    "date": self.promise_date,
                    "amount": self.promise_amount,
                    "move_ids": [fields.Command.set(self.promise_move_ids.ids)],
                    "origin": "call",
                    "user_id": self.env.user.id,
                    "note": self.note,
                }
            )
        elif self.outcome == "dispute":
            dispute = dispute.create(
                {
                    "move_id": self.dispute_move_id.id,
                    "reason": self.dispute_reason,
                    "owner_id": self.env.user.id,
                    "note": self.note and Markup("<p>%s</p>") % self.note,
                }
            )
        call = env["relance.call"].create(
            {
                "company_id": self.company_id.id,
                "partner_id": partner.id,
                "user_id": self.env.user.id,
                "outcome": self.outcome,
                "contact_id": self.contact_id.id,
                "note": self.note,
                "next_date": self.next_date,
                "communication_id": self.communication_id.id,
                "promise_id": promise.id,
                "dispute_id": dispute.id,
            }
        )
        comm = self.communication_id.with_env(env)
        if comm:
            comm._mark_sent(by_person=True)
        # sudo: the caller's rights were checked above (dunning team, or the
        # step's own responsible); a billing user or a salesperson may not
        # write on the customer, and the note and follow-up are the call's own
        # trail, authored by the caller.
        chatter = partner.sudo()
        chatter.message_post(
            body=self._get_chatter_body(call),
            subtype_xmlid="mail.mt_note",
            author_id=self.env.user.partner_id.id,
        )
        self._plan_next_action(chatter)
        return {"type": "ir.actions.act_window_close"}

    def _get_chatter_body(self, call):
        """The note left in the customer's chatter (values escaped)."""
        outcomes = dict(self._fields["outcome"]._description_selection(self.env))
        lines = [
            _(
                "Call by %(user)s: %(outcome)s.",
                user=self.env.user.name,
                outcome=outcomes[self.outcome],
            )
        ]
        if self.contact_id:
            lines.append(_("Contact reached: %s.", self.contact_id.name))
        if call.promise_id:
            lines.append(
                _(
                    "Promise to pay %(amount)s by %(date)s.",
                    amount=format_amount(
                        self.env, call.promise_id.amount, self.currency_id
                    ),
                    date=fields.Date.to_string(call.promise_id.date),
                )
            )
        if call.dispute_id:
            lines.append(_("Dispute opened on %s.", call.dispute_id.move_id.name))
        if self.next_date:
            lines.append(_("Next action on %s.", fields.Date.to_string(self.next_date)))
        if self.note:
            lines.append(self.note)
        return Markup("<br/>").join(lines)

    def _plan_next_action(self, partner):
        """A follow-up activity for the caller: on the next action date, or at
        once to find the right number after a wrong one."""
        today = fields.Date.context_today(self)
        if self.outcome == "wrong_number":
            partner.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=today,
                summary=_("Find the right phone number"),
                user_id=self.env.user.id,
            )
        if self.next_date:
            partner.activity_schedule(
                "mail.mail_activity_data_call",
                date_deadline=self.next_date,
                summary=(
                    _("Call back")
                    if self.outcome in ("voicemail", "wrong_number")
                    else _("Follow up the call")
                ),
                note=self.note and Markup("<p>%s</p>") % self.note,
                user_id=self.env.user.id,
            )
