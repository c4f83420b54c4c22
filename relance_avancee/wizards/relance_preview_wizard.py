from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date


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
    amount_total = fields.Monetary(
        string="Amount due",
        compute="_compute_totals",
        help="The amount due reminded by the lines that will be sent: ticked, "
        "neither skipped nor waiting for a reconciliation; a step sent by "
        "email and SMS counts once; thank-you notes (for invoices already "
        "paid) are not counted.",
    )
    line_count = fields.Integer(
        string="Lines kept",
        compute="_compute_totals",
        help="The lines that will be sent, thank-you notes included.",
    )
    excluded_count = fields.Integer(
        compute="_compute_totals",
        help="The reminder lines that will not be sent: unticked, skipped or "
        "waiting for a reconciliation.",
    )
    excluded_amount = fields.Monetary(compute="_compute_totals")
    excluded_summary = fields.Char(string="Excluded", compute="_compute_totals")
    date_in_future = fields.Boolean(compute="_compute_date_in_future")
    result = fields.Text(readonly=True)

    @api.depends("line_ids.include", "line_ids.action", "line_ids.amount")
    def _compute_totals(self):
        for wizard in self:
            kept = wizard.line_ids.filtered(lambda line: line._will_be_sent())
            reminders = wizard.line_ids.filtered(lambda line: line.kind != "thanks")
            excluded = reminders - kept
            wizard.line_count = len(kept)
            wizard.amount_total = (kept & reminders)._get_amount_once()
            wizard.excluded_count = len(excluded)
            wizard.excluded_amount = excluded._get_amount_once()
            wizard.excluded_summary = (
                _(
                    "%(count)s line(s) not sent (unticked, skipped or to "
                    "reconcile first): %(amount)s",
                    count=len(excluded),
                    amount=format_amount(
                        self.env, wizard.excluded_amount, wizard.currency_id
                    ),
                )
                if excluded
                else False
            )

    @api.depends("date")
    @api.depends_context("tz")
    def _compute_date_in_future(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            wizard.date_in_future = bool(wizard.date and wizard.date > today)

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
            elif proposal.skip_reason == "paused":
                action, note = (
                    "paused",
                    _(
                        "Reminders paused until %s (the customer replied).",
                        format_date(self.env, proposal.paused_until),
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
                    "include": action not in ("skip", "blocked", "paused"),
                    "move_ids": [fields.Command.set(moves)],
                    "invoice_count": len(set(moves)),
                    "currency_id": currency.id,
                    "amount": proposal.amount,
                    "note": note,
                }
            )
        vals_list += self._prepare_paused_lines(engine)
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

    def _prepare_paused_lines(self, engine):
        """Lines saying which invoices a promise to pay or an annotation holds
        back although their step is due, and until when: one per customer,
        channel and kind, never sent."""
        plans = engine._scan_paused(self.company_id, self.date, self._get_partner_ids())
        groups = {}
        for plan in plans:
            for level in plan.step:
                kind = "courtesy" if level.delay < 0 else "reminder"
                key = (plan.partner_id, level.channel, kind, level.manual)
                groups.setdefault(key, (level, []))[1].append(plan)
        # sudo: the pause's cause (a promise, an annotation) is read for the
        # note whatever the user's rights on those records.
        moves = self.env["account.move"].sudo()
        currency = self.company_id.currency_id
        vals_list = []
        for (partner_id, channel, kind, manual), (level, items) in groups.items():
            paused = moves.browse(sorted({plan.move_id for plan in items}))
            vals_list.append(
                {
                    "wizard_id": self.id,
                    "partner_id": partner_id,
                    "level_id": level.id,
                    "channel": channel,
                    "kind": kind,
                    "manual": manual,
                    "action": "paused",
                    "include": False,
                    "move_ids": [fields.Command.set(paused.ids)],
                    "invoice_count": len(paused),
                    "currency_id": currency.id,
                    "amount": sum(plan.amount for plan in items),
                    "note": " ".join(
                        f"{move.name}: {move.relance_pause_reason}" for move in paused
                    ),
                }
            )
        return vals_list

    def action_refresh(self):
        self._compute_lines()
        return self._reopen()

    def _check_can_send(self):
        """Refuse a run the batch would never make: a date in the future (the
        steps would be recorded early) or nothing ticked."""
        if self.date > fields.Date.context_today(self):
            raise UserError(
                _(
                    "Steps are never sent early: the preview date is in the future "
                    "(%(date)s). Set today's date to send now.",
                    date=format_date(self.env, self.date),
                )
            )
        if not self.line_ids.filtered(lambda line: line._will_be_sent()):
            raise UserError(_("Nothing to send: tick at least one line."))

    def action_send(self):
        """Run the batch now for the customers of the preview, leaving out the
        lines the user unticked."""
        self.ensure_one()
        self._check_can_send()
        excluded = {
            (line.partner_id.id, line.channel, line.kind, line.manual)
            for line in self.line_ids
            if not line.include and line.kind != "thanks" and line.action != "paused"
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
