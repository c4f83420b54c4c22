import logging
import uuid

from odoo import _, api, fields, models
from odoo.tools import SQL

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
