import calendar
import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date
from odoo.tools.sql import column_exists, create_column

from .relance_interest_rate import half_year_start

_logger = logging.getLogger(__name__)

# Set once a combined invoice render could not be split in this worker (Debian's
# wkhtmltopdf, without patched Qt): render one invoice per call from then on.
_COMBINED_PDF = [False]


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "relance.banner.mixin"]

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
    relance_fees_move_id = fields.Many2one(
        "account.move",
        string="Late fees invoice",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The invoice of this invoice's recovery indemnity and late interest: "
        "they are invoiced once.",
    )
    relance_is_late_fees = fields.Boolean(
        string="Is a late fees invoice",
        copy=False,
        readonly=True,
        help="This invoice charges recovery indemnities and late interest: it "
        "bears no late fees itself.",
    )

    def _relance_get_banner_customer(self):
        # The customer's banner on its invoices, credit notes and receipts.
        self.ensure_one()
        if self.is_sale_document(include_receipts=True):
            return self.commercial_partner_id
        return self.env["res.partner"]

    def init(self):
        res = super().init()
        # The batch re-reads each chunk's customers' receivables: without an
        # index on the customer, every chunk would scan the company's ledger.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS relance_account_move_commercial_partner_idx
                ON account_move (commercial_partner_id)
             WHERE state = 'posted'
            """
        )
        return res

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
        # Called through RPC with any id: refuse an invoice the user may not
        # read (another company's) rather than open a screen on it.
        self.check_access("read")
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
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_history_action"
        )
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_view_relance_disputes(self):
        self.ensure_one()
        self.check_access("read")
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

    def button_draft(self):
        res = super().button_draft()
        if not self.env.context.get("relance_skip_open_steps"):
            self._relance_cancel_open_steps()
        return res

    def button_cancel(self):
        # The reset to draft button_cancel goes through is not the reason.
        res = super(
            AccountMove, self.with_context(relance_skip_open_steps=True)
        ).button_cancel()
        self._relance_cancel_open_steps()
        return res

    def _reverse_moves(self, default_values_list=None, cancel=False):
        reversals = super()._reverse_moves(default_values_list, cancel=cancel)
        if cancel:
            # Reversed in full: the credit note settles the invoice at once.
            self._relance_cancel_open_steps()
        return reversals

    def _relance_cancel_open_steps(self):
        """Cancel, with their reason, the dunning steps of these invoices still
        open (a letter waiting to be printed, a task for a person, an email in
        error waiting to be sent again): the invoice was reset to draft,
        cancelled or reversed, there is nothing left to chase. A letter or a
        task left with no invoice is cancelled, its activity removed."""
        invoices = self.filtered(lambda m: m.is_sale_document(include_receipts=True))
        if not invoices:
            return
        # sudo: the user was allowed to reset, cancel or reverse these invoices;
        # their open dunning steps, written by the dunning team only, are moot
        # with them and closed here, nothing else.
        rows = (
            self.env["relance.history"]
            .sudo()
            .search(
                [("move_id", "in", invoices.ids), ("state", "in", ("todo", "error"))]
            )
        )
        if not rows:
            return
        bodies = {}
        for move, group in rows.grouped("move_id").items():
            reason = move._relance_get_not_due_reason() or _(
                "The invoice %s is no longer due.", move.name
            )
            group.write({"state": "cancelled", "reason": reason})
            bodies[move.id] = _("Open dunning steps cancelled: %s", reason)
        rows.move_id._message_log_batch(bodies=bodies)
        comms = rows.communication_id.filtered(
            lambda c: (
                c.state in ("todo", "error")
                and not c.history_ids.filtered(lambda h: h.state != "cancelled")
            )
        )
        for comm in comms:
            comm.write(
                {
                    "state": "cancelled",
                    "error_reason": "\n".join(
                        dict.fromkeys(comm.history_ids.mapped("reason"))
                    ),
                }
            )
        comms.activity_id.with_context(relance_skip_activity_hook=True).unlink()

    def _relance_get_not_due_reason(self):
        """Why this invoice must not be chased right now, or ``False``.

        Read at send time, so a payment or dispute recorded between the scan and
        the sending stops the reminder.
        """
        self.ensure_one()
        if self.state == "draft":
            return _("The invoice %s was reset to draft.", self.name)
        if self.state == "cancel":
            return _("The invoice %s was cancelled.", self.name)
        if self.state != "posted":
            return _("The invoice %s is no longer posted.", self.name)
        if self.payment_state == "reversed":
            return _("The invoice %s was reversed by a credit note.", self.name)
        if self.relance_in_dispute:
            return _("The invoice %s is in dispute.", self.name)
        if self.relance_paused:
            # A promise or an annotation made since the scan: the step is
            # cancelled, and planned again when the pause ends.
            return _(
                "The invoice %(invoice)s: %(reason)s",
                invoice=self.name,
                reason=self.relance_pause_reason,
            )
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

    def _relance_ensure_invoice_pdfs(self):
        """Make sure these invoices have their PDF stored, as Odoo's Send &
        Print keeps it (``invoice_pdf_report_id``), so every reminder and the
        customer portal reuse it instead of rendering it again.

        Missing PDFs are rendered together when wkhtmltopdf can split the
        result, else one by one. A failure never raises: it is returned, and
        the reminder goes without that PDF.

        :return: ``{move_id: error message}`` of the PDFs that could not be made
        """
        missing = self.filtered(
            lambda m: m.is_invoice() and not m.invoice_pdf_report_id
        )
        errors = {}
        if not missing:
            return errors
        sender = self.env["account.move.send"]
        report = self.env.ref("account.account_invoices")
        if len(missing) > 1 and not _COMBINED_PDF[0]:
            # Together, in slices small enough for wkhtmltopdf's memory.
            batches = [missing[i : i + 50] for i in range(0, len(missing), 50)]
        else:
            batches = list(missing)
        while batches:
            batch = batches.pop(0)
            invoices_data = {move: {"pdf_report": report} for move in batch}
            try:
                with self.env.cr.savepoint():
                    sender._prepare_invoice_pdf_report(invoices_data)
            except Exception as error:  # noqa: BLE001 - any rendering failure
                if len(batch) > 1:
                    # A combined render this wkhtmltopdf cannot split: this
                    # worker renders each invoice alone from now on.
                    _COMBINED_PDF[0] = True
                    _logger.info("Combined invoice PDFs failed (%s): one by one", error)
                    batches += list(batch)
                    continue
                _logger.warning("Invoice PDF of %s not rendered: %s", batch.name, error)
                errors[batch.id] = str(error)
                continue
            # sudo: the invoices' own PDFs, rendered above by the report
            # engine for invoices the batch may read; Odoo's report stores
            # them the same way (ir.actions.report._render_qweb_pdf).
            self.env["ir.attachment"].sudo().create(
                [data["pdf_attachment_values"] for data in invoices_data.values()]
            )
            batch.invalidate_recordset(
                ["invoice_pdf_report_id", "invoice_pdf_report_file"]
            )
            for move in batch.filtered(lambda m: not m.message_main_attachment_id):
                move.message_main_attachment_id = move.invoice_pdf_report_id
        return errors

    def _relance_ensure_portal_tokens(self):
        """Give these invoices the access token of their portal link, in one
        statement.

        Odoo's ``_portal_ensure_token`` writes one invoice at a time, and a
        write on a posted invoice runs the whole ``account.move.write``
        machinery (balance and lock-date checks) for a field no accounting
        rule reads: the token is set directly, each invoice its own.
        """
        missing = self.filtered(lambda m: not m.access_token)
        if not missing:
            return
        tokens = {move.id: str(uuid.uuid4()) for move in missing}
        rows = [SQL("(%s, %s)", move_id, token) for move_id, token in tokens.items()]
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move m
                   SET access_token = v.token
                  FROM (VALUES %s) AS v(id, token)
                 WHERE m.id = v.id AND m.access_token IS NULL
                """,
                SQL(", ").join(rows),
            )
        )
        self.env.cache.update(
            missing, self._fields["access_token"], [tokens[m.id] for m in missing]
        )

    # -------------------------------------------------------------------------
    # Late-payment fees (Code de commerce L441-10 and D441-5)
    # -------------------------------------------------------------------------

    def _relance_get_late_fees(self, date):
        """The legal late-payment amounts of these invoices at ``date``.

        Public API for the letters, the formal notice and the fees invoicing.
        For every invoice of ``self`` (ids as keys)::

            {
                "late": bool,         # open and overdue at ``date``
                "indemnity": float,   # company currency
                "indemnity_currency": res.currency,  # the company's
                "interest": float,    # invoice currency, rounded
                "currency": res.currency,            # the invoice's
                "rate_periods": [{
                    "date_from": date, "date_to": date,  # both included
                    "days": int,
                    "rate": float,      # yearly %, margin included
                    "base": float,      # outstanding amount, invoice currency
                    "amount": float,    # interest of the period, not rounded
                    "provisional": bool,
                }],
                "provisional": bool,  # a period uses a rate not entered yet
            }

        Only customer invoices (``out_invoice``), posted, that are *late* at
        ``date`` (a receivable line due before ``date`` still has an
        outstanding amount on ``date``, from the reconciliations dated up to
        ``date``) bear fees; the others, and the fees invoices themselves, get
        zeros and no period. Invoices already invoiced their fees still get
        their amounts (the letter shows them); the invoicing skips them.

        - **Indemnity**: the company's ``relance_indemnity_amount`` per late
          invoice, owed in full even after a partial payment, for business
          customers only (commercial entity that is a company or has a VAT
          number), else 0.
        - **Interest**: from the day after each receivable line's due date to
          ``date`` included, on the amount outstanding each day: a payment or
          credit note reconciled on day P reduces the base from P included
          (``account.partial.reconcile.max_date``). The yearly rate is the
          company's (``res.company._relance_get_interest_rate``): in legal mode
          the ECB rate of the half-year the day falls in (of 1 January for
          January–June, of 1 July for July–December) plus the margin. Each day
          counts 1/365, or 1/366 in a leap year (actual/actual)::

              interest = round(sum(base × rate / 100 × days / days_in_year))

          summed over the periods of constant base, rate and year, rounded to
          the invoice's currency once, at the end. A half-year without its
          rate uses the latest known rate and marks the period and the invoice
          ``provisional``. Mode ``none``: no interest, no period.

        Batched: one read of the receivable lines, one of their
        reconciliations and one of the rate table, whatever the number of
        invoices.

        :param date: the day the amounts are computed at (included)
        :raise UserError: legal mode and an empty rate table
        """
        date = fields.Date.to_date(date)
        invoices = self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and not m.relance_is_late_fees
            )
        )
        lines = self.env["account.move.line"].search_fetch(
            [("move_id", "in", invoices.ids), ("display_type", "=", "payment_term")],
            ["move_id", "amount_currency", "date_maturity"],
        )
        partials = self.env["account.partial.reconcile"].search_fetch(
            [
                "|",
                ("debit_move_id", "in", lines.ids),
                ("credit_move_id", "in", lines.ids),
                ("max_date", "<=", date),
            ],
            [
                "debit_move_id",
                "credit_move_id",
                "debit_amount_currency",
                "credit_amount_currency",
                "max_date",
            ],
        )
        # What each reconciliation takes off each line, and when.
        reductions = defaultdict(list)
        for partial in partials:
            reductions[partial.debit_move_id.id].append(
                (partial.max_date, partial.debit_amount_currency)
            )
            reductions[partial.credit_move_id.id].append(
                (partial.max_date, -partial.credit_amount_currency)
            )
        lines_by_move = defaultdict(list)
        for line in lines:
            lines_by_move[line.move_id.id].append(
                (line.date_maturity, line.amount_currency, reductions[line.id])
            )
        table = self.env["relance.interest.rate"]._get_rate_table()

        result = {}
        for move in self:
            result[move.id] = move._relance_compute_late_fees(
                date, lines_by_move.get(move.id, []) if move in invoices else [], table
            )
        return result

    def _relance_compute_late_fees(self, date, receivables, table):
        """The fees of this one invoice; see ``_relance_get_late_fees``.

        :param receivables: ``[(due date, amount, [(date, reduction)])]`` of
            its receivable lines, in the invoice's currency
        :param table: ``relance.interest.rate._get_rate_table()``
        """
        self.ensure_one()
        company = self.company_id
        currency = self.currency_id
        fees = {
            "late": False,
            "indemnity": 0.0,
            "indemnity_currency": company.currency_id,
            "interest": 0.0,
            "currency": currency,
            "rate_periods": [],
            "provisional": False,
        }

        def outstanding(line, day):
            due, amount, line_reductions = line
            left = amount - sum(red for on, red in line_reductions if on <= day)
            return left if currency.compare_amounts(left, 0) > 0 else 0.0

        overdue = [line for line in receivables if line[0] and line[0] < date]
        if not any(outstanding(line, date) for line in overdue):
            return fees
        fees["late"] = True
        if self.commercial_partner_id._relance_is_business():
            fees["indemnity"] = company.relance_indemnity_amount or 0.0
        if company.relance_interest_mode == "none":
            return fees

        # Periods of constant base, rate and year: cut at each line's first
        # late day, each reduction, each half-year (and so each year).
        start = min(line[0] for line in overdue) + timedelta(days=1)
        cuts = {start, date + timedelta(days=1)}
        for due, _amount, line_reductions in overdue:
            cuts.add(due + timedelta(days=1))
            cuts.update(on for on, _red in line_reductions if start < on <= date)
        half = half_year_start(start)
        while half <= date:
            if half > start:
                cuts.add(half)
            half = (
                half.replace(month=7)
                if half.month == 1
                else half.replace(year=half.year + 1, month=1)
            )
        cuts = sorted(cuts)
        total = 0.0
        for day_from, day_end in zip(cuts, cuts[1:], strict=False):
            base = sum(
                outstanding(line, day_from) for line in overdue if line[0] < day_from
            )
            if not base:
                continue
            rate = company._relance_get_interest_rate(day_from, table=table)
            days = (day_end - day_from).days
            year_days = 366 if calendar.isleap(day_from.year) else 365
            amount = base * rate["rate"] / 100.0 * days / year_days
            total += amount
            fees["rate_periods"].append(
                {
                    "date_from": day_from,
                    "date_to": day_end - timedelta(days=1),
                    "days": days,
                    "rate": rate["rate"],
                    "base": base,
                    "amount": amount,
                    "provisional": rate["provisional"],
                }
            )
        fees["interest"] = currency.round(total)
        fees["provisional"] = any(p["provisional"] for p in fees["rate_periods"])
        return fees

    def _relance_invoice_late_fees(self, date=None):
        """Invoice the late fees of these invoices to their customers.

        One posted customer invoice per customer and company, in the company's
        currency, with one line for the indemnity and one for the interest of
        each late invoice (``_relance_get_late_fees`` at ``date``, today by
        default), on the company's late fees account, without taxes (these
        indemnities are not subject to VAT in France). Each invoice records
        its fees invoice (``relance_fees_move_id``): its fees are invoiced
        once, a second call skips it. Invoices in dispute, not late, or
        already invoiced their fees are skipped.

        :return: the fees invoices
        :raise UserError: nothing is left to invoice
        """
        date = fields.Date.to_date(date) if date else fields.Date.context_today(self)
        candidates = self.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        )
        if candidates:
            # Two users invoicing the same customer at once: the second waits,
            # then sees the first one's fees invoice and skips the invoices.
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM account_move WHERE id IN %s FOR UPDATE",
                    tuple(candidates.ids),
                )
            )
            candidates.invalidate_recordset(["relance_fees_move_id"])
        candidates = candidates.filtered(
            lambda m: (
                not m.relance_fees_move_id
                and not m.relance_is_late_fees
                and not m.relance_in_dispute
            )
        )
        fees = candidates._relance_get_late_fees(date)
        groups = defaultdict(lambda: self.browse())
        for move in candidates:
            if fees[move.id]["indemnity"] or fees[move.id]["interest"]:
                groups[move.company_id, move.commercial_partner_id] |= move
        if not groups:
            raise UserError(
                _(
                    "There are no late fees left to invoice at %(date)s: no "
                    "invoice is late, or their fees were invoiced already.",
                    date=format_date(self.env, date),
                )
            )
        vals_list = []
        for (company, partner), moves in groups.items():
            vals_list.append(
                moves._relance_prepare_late_fees_invoice(company, partner, date, fees)
            )
        fee_moves = self.env["account.move"].create(vals_list)
        fee_moves.action_post()
        for fee_move, moves in zip(fee_moves, groups.values(), strict=True):
            moves.write({"relance_fees_move_id": fee_move.id})
            fee_move.commercial_partner_id._message_log(
                body=_(
                    "Late fees invoiced on %(invoice)s for %(invoices)s: %(amount)s.",
                    invoice=fee_move.name,
                    invoices=", ".join(moves.mapped("name")),
                    amount=fee_move.currency_id.format(fee_move.amount_total),
                ),
            )
        return fee_moves

    def _relance_prepare_late_fees_invoice(self, company, partner, date, fees):
        """The values of the fees invoice of these late invoices of
        ``partner`` in ``company``: override to add or change lines."""
        journal = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(company),
                ("type", "=", "sale"),
            ],
            limit=1,
        )
        account = company.relance_fees_account_id or journal.default_account_id
        if not journal or not account:
            raise UserError(
                _(
                    "Set the late fees account of %(company)s in the Dunning "
                    "settings: there is no sales journal with a default income "
                    "account to invoice late fees.",
                    company=company.name,
                )
            )
        lang_env = self.with_context(lang=partner.lang or self.env.lang).env
        lines = []
        for move in self:
            move_fees = fees[move.id]
            if move_fees["indemnity"]:
                lines.append(
                    {
                        "name": lang_env._(
                            "Recovery indemnity – %(invoice)s", invoice=move.name
                        ),
                        "quantity": 1,
                        "price_unit": move_fees["indemnity"],
                        "account_id": account.id,
                        "tax_ids": [Command.clear()],
                    }
                )
            if move_fees["interest"]:
                periods = move_fees["rate_periods"]
                interest = move.currency_id._convert(
                    move_fees["interest"], company.currency_id, company, date
                )
                lines.append(
                    {
                        "name": lang_env._(
                            "Late interest %(date_from)s–%(date_to)s – %(invoice)s",
                            date_from=format_date(lang_env, periods[0]["date_from"]),
                            date_to=format_date(lang_env, periods[-1]["date_to"]),
                            invoice=move.name,
                        ),
                        "quantity": 1,
                        "price_unit": interest,
                        "account_id": account.id,
                        "tax_ids": [Command.clear()],
                    }
                )
        return {
            "move_type": "out_invoice",
            "company_id": company.id,
            "journal_id": journal.id,
            "partner_id": partner.id,
            "invoice_date": date,
            "currency_id": company.currency_id.id,
            "invoice_origin": ", ".join(self.mapped("name")),
            "relance_is_late_fees": True,
            "invoice_line_ids": [Command.create(vals) for vals in lines],
        }

    # -------------------------------------------------------------------------
    # Pauses: promises to pay and annotations
    # -------------------------------------------------------------------------

    relance_promise_ids = fields.Many2many(
        "relance.promise",
        "relance_promise_account_move_rel",
        "move_id",
        "promise_id",
        string="Promises to pay",
        copy=False,
    )
    relance_annotation_ids = fields.One2many(
        "relance.annotation", "move_id", string="Annotations", copy=False
    )
    relance_payment_plan_ids = fields.Many2many(
        "relance.payment.plan",
        "relance_payment_plan_account_move_rel",
        "move_id",
        "plan_id",
        string="Payment plans",
        copy=False,
    )
    relance_annotation_count = fields.Integer(
        string="Annotations #", compute="_compute_relance_annotation_count"
    )
    relance_pause_until = fields.Date(
        string="Reminders paused until",
        compute="_compute_relance_pause",
        store=True,
        copy=False,
        help="An open promise to pay, a running payment plan (until its last "
        "instalment and its grace period) or an annotation pauses the reminders "
        "of this invoice until this date included; they resume the day after.",
    )
    relance_resume_date = fields.Date(
        string="Dunning resumes on",
        compute="_compute_relance_pause",
        store=True,
        copy=False,
        help="The day after a broken promise, the day a payment plan broke: the "
        "next step of the scenario is due that day, without waiting for the "
        "scenario's spacing.",
    )
    relance_pause_reason = fields.Char(
        string="Pause reason", compute="_compute_relance_pause_reason"
    )
    relance_paused = fields.Boolean(
        string="Reminders paused", compute="_compute_relance_pause_reason"
    )

    def _auto_init(self):
        # Nothing pauses an invoice when the columns appear (no promise, no
        # annotation yet): create them empty rather than let Odoo compute them
        # for every journal entry of a large ledger.
        for column in ("relance_pause_until", "relance_resume_date"):
            if not column_exists(self.env.cr, self._table, column):
                create_column(self.env.cr, self._table, column, "date")
        return super()._auto_init()

    @api.depends(
        "relance_promise_ids.state",
        "relance_promise_ids.date",
        "relance_annotation_ids.pause_reminders",
        "relance_annotation_ids.date",
        "relance_payment_plan_ids.state",
        "relance_payment_plan_ids.grace_days",
        "relance_payment_plan_ids.date_closed",
        "relance_payment_plan_ids.line_ids.date",
    )
    def _compute_relance_pause(self):
        for move in self:
            ends = [p.date for p in move.relance_promise_ids if p.state == "open"] + [
                a.date for a in move.relance_annotation_ids if a.pause_reminders
            ]
            ends += [
                plan._get_pause_end()
                for plan in move.relance_payment_plan_ids
                if plan.state == "running" and plan.line_ids
            ]
            move.relance_pause_until = max(ends) if ends else False
            resumes = [
                p.date + timedelta(days=1)
                for p in move.relance_promise_ids
                if p.state == "broken"
            ] + [
                plan.date_closed
                for plan in move.relance_payment_plan_ids
                if plan.state == "broken" and plan.date_closed
            ]
            move.relance_resume_date = max(resumes) if resumes else False

    @api.depends_context("tz", "lang")
    @api.depends("relance_pause_until")
    def _compute_relance_pause_reason(self):
        today = fields.Date.context_today(self)
        for move in self:
            until = move.relance_pause_until
            move.relance_paused = bool(until and until >= today)
            if not move.relance_paused:
                move.relance_pause_reason = False
                continue
            move.relance_pause_reason = _(
                "Reminders paused until %(date)s (%(reason)s).",
                date=format_date(self.env, until),
                reason=move._relance_get_pause_cause(),
            )

    def _relance_get_pause_cause(self):
        """What pauses this invoice until ``relance_pause_until``, in words:
        the open promise or the annotation ending that day."""
        self.ensure_one()
        until = self.relance_pause_until
        # sudo: the cause is shown to whoever sees the invoice, whether or not
        # the promise's, annotation's or plan's record rules let them open it.
        move = self.sudo()
        for promise in move.relance_promise_ids:
            if promise.state == "open" and promise.date == until:
                return _(
                    "promise to pay %(amount)s",
                    amount=promise.currency_id.format(promise.amount),
                )
        for annotation in move.relance_annotation_ids:
            if annotation.pause_reminders and annotation.date == until:
                return annotation._get_pause_reason()
        for plan in move.relance_payment_plan_ids:
            if plan.state == "running" and plan._get_pause_end() == until:
                return _("payment plan %s", plan.display_name)
        return ""

    def _compute_relance_annotation_count(self):
        groups = self.env["relance.annotation"]._read_group(
            [("move_id", "in", self.ids)], ["move_id"], ["__count"]
        )
        counts = {move.id: count for move, count in groups}
        for move in self:
            move.relance_annotation_count = counts.get(move.id, 0)

    def action_view_relance_annotations(self):
        """The annotations of this invoice; a new one is for this invoice."""
        self.ensure_one()
        # An action opened by id through RPC: only on an invoice the user sees.
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_annotation_action"
        )
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {"default_move_id": self.id}
        return action

    def _relance_check_promises(self):
        """A payment reconciled on these invoices may keep their open promises
        at once (see ``relance.promise._check_kept_or_broken``)."""
        # sudo: promises are the dunning's bookkeeping, updated for whoever
        # records the payment (an accountant may not see every promise).
        promises = (
            self.env["relance.promise"]
            .sudo()
            .search([("state", "=", "open"), ("move_ids", "in", self.ids)])
        )
        if promises:
            promises._check_kept_or_broken(fields.Date.context_today(self))
