from odoo import _, api, fields, models
from odoo.exceptions import UserError


class RelancePreviewWizard(models.TransientModel):
    """Show what the next batch would send, without sending; send the lines the
    user keeps."""

    _name = "relance.preview.wizard"
    _description = "Dunning preview and manual run"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        help="Empty: every customer of the company.",
    )
    line_ids = fields.One2many("relance.preview.line", "wizard_id", string="Lines")
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total = fields.Monetary(compute="_compute_totals")
    line_count = fields.Integer(compute="_compute_totals")
    result = fields.Text(readonly=True)

    @api.depends("line_ids.include", "line_ids.amount")
    def _compute_totals(self):
        for wizard in self:
            kept = wizard.line_ids.filtered("include")
            wizard.line_count = len(kept)
            wizard.amount_total = sum(kept.mapped("amount"))

    @api.model
    def _action_open(self, partners=None):
        """Create a preview (for ``partners`` or everybody) and open it."""
        wizard = self.create(
            {"partner_ids": [fields.Command.set(partners.ids)] if partners else []}
        )
        wizard._compute_lines()
        return wizard._reopen()

    def _reopen(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Dunning preview"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _get_partner_ids(self):
        return self.partner_ids.commercial_partner_id.ids or None

    def _compute_lines(self):
        """Fill the lines from a dry scan: nothing is written but the preview."""
        self.ensure_one()
        engine = self.env["relance.engine"].with_company(self.company_id)
        proposals = engine._scan(self.company_id, self.date, self._get_partner_ids())
        thanks = engine._scan_thanks(
            self.company_id, self.date, self._get_partner_ids()
        )
        currency = self.company_id.currency_id
        vals_list = []
        for proposal in proposals:
            if proposal.skip_reason == "blocked":
                action, note = (
                    "blocked",
                    _(
                        "Unreconciled payments or credit notes cover the overdue "
                        "amount."
                    ),
                )
            elif proposal.skip_reason:
                action, note = "skip", proposal.skip_reason
            elif proposal.manual:
                action, note = "task", False
            elif proposal.channel in ("letter", "formal_notice"):
                action, note = "print", False
            else:
                action, note = "send", False
            moves = [plan.move_id for plan, _level in proposal.items]
            vals_list.append(
                {
                    "wizard_id": self.id,
                    "partner_id": proposal.partner_id,
                    "level_id": proposal.level.id,
                    "channel": proposal.channel,
                    "kind": proposal.kind,
                    "manual": proposal.manual,
                    "action": action,
                    "include": action not in ("skip", "blocked"),
                    "move_ids": [fields.Command.set(moves)],
                    "invoice_count": len(set(moves)),
                    "currency_id": currency.id,
                    "amount": proposal.amount,
                    "note": note,
                }
            )
        for partner_id, move_ids in thanks.items():
            moves = self.env["account.move"].browse(move_ids)
            vals_list.append(
                {
                    "wizard_id": self.id,
                    "partner_id": partner_id,
                    "channel": "email",
                    "kind": "thanks",
                    "action": "send",
                    "move_ids": [fields.Command.set(move_ids)],
                    "invoice_count": len(move_ids),
                    "currency_id": currency.id,
                    "amount": sum(abs(m.amount_total_signed) for m in moves),
                }
            )
        self.line_ids.unlink()
        self.env["relance.preview.line"].create(vals_list)

    def action_refresh(self):
        self._compute_lines()
        return self._reopen()

    def action_send(self):
        """Run the batch now for the customers of the preview, leaving out the
        lines the user unticked."""
        self.ensure_one()
        if not self.line_ids.filtered("include"):
            raise UserError(_("Nothing to send: tick at least one line."))
        excluded = {
            (line.partner_id.id, line.channel, line.kind, line.manual)
            for line in self.line_ids
            if not line.include and line.kind != "thanks"
        }
        excluded_thanks = {
            line.partner_id.id
            for line in self.line_ids
            if not line.include and line.kind == "thanks"
        }
        partner_ids = list(
            {line.partner_id.id for line in self.line_ids.filtered("include")}
        )
        stats = (
            self.env["relance.engine"]
            .with_company(self.company_id)
            .with_context(relance_no_commit=True)
            ._run(
                self.company_id,
                self.date,
                partner_ids,
                exclude_keys=excluded,
                exclude_thanks=excluded_thanks,
            )
        )
        self.result = _(
            "%(communications)s communication(s): %(sent)s sent, %(todo)s to do "
            "(activities, letters to print), %(errors)s in error, %(skipped)s step(s) "
            "skipped, %(blocked)s customer(s) to reconcile first.",
            communications=stats.communications,
            sent=stats.sent,
            todo=stats.todo,
            errors=stats.errors,
            skipped=stats.skipped,
            blocked=stats.blocked,
        )
        self._compute_lines()
        return self._reopen()
