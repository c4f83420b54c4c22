from odoo import _, api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    relance_dispute_ids = fields.One2many(
        "relance.dispute", "move_id", string="Disputes"
    )
    relance_in_dispute = fields.Boolean(
        string="In dispute",
        compute="_compute_relance_in_dispute",
        store=True,
        help="An open dispute pauses the reminders of this invoice.",
    )
    relance_history_ids = fields.One2many(
        "relance.history", "move_id", string="Dunning history"
    )
    relance_history_count = fields.Integer(compute="_compute_relance_history_count")
    relance_cycle = fields.Integer(
        string="Dunning cycle",
        default=1,
        copy=False,
        help="Restarting the dunning of an invoice opens a new cycle: its steps "
        "can be sent again.",
    )

    @api.depends("relance_dispute_ids.state")
    def _compute_relance_in_dispute(self):
        for move in self:
            move.relance_in_dispute = any(
                d.state == "open" for d in move.relance_dispute_ids
            )

    def _compute_relance_history_count(self):
        groups = self.env["relance.history"]._read_group(
            [("move_id", "in", self.ids)], ["move_id"], ["__count"]
        )
        counts = {move.id: count for move, count in groups}
        for move in self:
            move.relance_history_count = counts.get(move.id, 0)

    def action_relance_flag_dispute(self):
        """Open the wizard to record a customer's dispute on this invoice."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Flag a dispute"),
            "res_model": "relance.dispute.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

    def action_view_relance_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_history_action"
        )
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_view_relance_disputes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_dispute_action"
        )
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {"default_move_id": self.id}
        return action

    def action_relance_restart(self):
        """Start the dunning of these invoices over: their steps may be sent again."""
        for move in self:
            move.relance_cycle += 1
            move.message_post(
                body=_("Dunning restarted (cycle %s).", move.relance_cycle),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def _relance_get_not_due_reason(self):
        """Why this invoice must not be chased right now, or ``False``.

        Read at send time, so a payment or dispute recorded between the scan and
        the sending stops the reminder.
        """
        self.ensure_one()
        if self.state != "posted":
            return _("The invoice %s is no longer posted.", self.name)
        if self.relance_in_dispute:
            return _("The invoice %s is in dispute.", self.name)
        receivable = self.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        if not any(
            not line.reconciled
            and line.company_currency_id.compare_amounts(line.amount_residual, 0) > 0
            for line in receivable
        ):
            return _("The invoice %s has been paid since the scan.", self.name)
        return False
