"""Customer statement (relevé de compte): every open receivable item of a
customer in the current company, with totals and ageing buckets per currency.

Printed from the customer (one statement per customer, each on its own
pages), attached to the emails of steps with *Attach the customer statement*,
and put first in the handover file. The values are prepared here as plain
values; the tables are built in QWeb.
"""

import logging
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..models.relance_kpi_aged import AGED_BUCKETS

_logger = logging.getLogger(__name__)

STATEMENT_REPORT = "relance_avancee.action_report_relance_statement"


def get_bucket(days_late):
    """The ageing bucket of an item ``days_late`` days past its due date; the
    same limits as the aged balance (``relance.kpi.aged``)."""
    if days_late <= 0:
        return "0_not_due"
    if days_late <= 30:
        return "1_30"
    if days_late <= 60:
        return "31_60"
    if days_late <= 90:
        return "61_90"
    return "91_plus"


class ReportRelanceStatement(models.AbstractModel):
    _name = "report.relance_avancee.report_relance_statement"
    _inherit = "relance.letter.report.mixin"
    _description = "Customer statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        docs = self.env["res.partner"].browse(docids)
        self._check_can_print_statement(docs)
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": docs,
            "statements": self._get_statements(docs),
        }

    @api.model
    def _check_can_print_statement(self, partners):
        """A statement tells a customer's receivables: printed only by who may
        read them (the accounting team, the customer's salesperson), whatever
        the route (menu, /report URL, RPC, the dunning batch)."""
        partners.check_access("read")
        hidden = partners - partners._relance_filter_visible()
        if hidden:
            raise AccessError(
                _(
                    "You may not print the statement of %s: only its salesperson "
                    "and the accounting team see its receivables.",
                    ", ".join(hidden.mapped("display_name")),
                )
            )

    # ------------------------------------------------------------------
    # Reading the open items
    # ------------------------------------------------------------------

    @api.model
    def _read_open_items(self, company, partner_ids, today):
        """The open receivable items of these commercial partners in
        ``company``, one per journal entry and currency, in one grouped query
        (the planner's filters: posted, receivable, not reconciled):
        ``{partner_id: [item values]}`` sorted by due date."""
        for model in ("account.move.line", "account.move"):
            self.env[model].flush_model()
        planner = self.env["relance.planner"]
        self.env.cr.execute(
            SQL(
                """
                SELECT l.move_id,
                       m.commercial_partner_id,
                       l.currency_id,
                       MIN(COALESCE(l.date_maturity, l.date)),
                       SUM(l.amount_currency),
                       SUM(l.amount_residual_currency),
                       SUM(l.amount_residual),
                       m.name,
                       m.ref,
                       m.move_type,
                       COALESCE(m.invoice_date, m.date),
                       m.amount_total_in_currency_signed,
                       m.relance_in_dispute
                  %(open_items)s
              GROUP BY l.move_id, m.id, l.currency_id
                """,
                open_items=planner._get_open_items_sql(company, partner_ids),
            )
        )
        # Read in SQL, not through account.move records: a salesperson may
        # print the statement of their own customers without invoicing rights.
        rows = self.env.cr.fetchall()
        moves = self.env["account.move"]
        currencies = self.env["res.currency"].browse({row[2] for row in rows if row[2]})
        items = defaultdict(list)
        for (
            move_id,
            partner_id,
            currency_id,
            due,
            amount_currency,
            residual_currency,
            residual,
            name,
            ref,
            move_type,
            date,
            amount_total,
            in_dispute,
        ) in rows:
            invoice = move_type in ("out_invoice", "out_refund", "out_receipt")
            days_late = (today - due).days if due else 0
            if move_type == "out_refund":
                kind = "refund"
            elif invoice:
                kind = "invoice" if residual > 0 else "refund"
            else:
                kind = "payment" if residual < 0 else "other"
            items[partner_id].append(
                {
                    "move": moves.browse(move_id),
                    "name": name,
                    "kind": kind,
                    "ref": ref if not invoice else False,
                    "date": date,
                    "due_date": due,
                    "days_late": max(days_late, 0) if residual > 0 else None,
                    "bucket": get_bucket(days_late),
                    "amount": amount_total if invoice else amount_currency,
                    "residual": residual_currency or residual,
                    "residual_company": residual,
                    "currency": currencies.browse(currency_id) or company.currency_id,
                    "is_invoice": invoice and residual > 0,
                    "in_dispute": in_dispute,
                }
            )
        for lines in items.values():
            lines.sort(key=lambda line: (line["due_date"], line["name"] or ""))
        return items

    @api.model
    def _get_currency_totals(self, items):
        """Totals and ageing buckets per currency: ``[{currency, amount,
        residual, buckets: [{key, amount}]}]``, in the buckets' order."""
        totals = {}
        for item in items:
            total = totals.setdefault(
                item["currency"],
                {
                    "currency": item["currency"],
                    "amount": 0.0,
                    "residual": 0.0,
                    "buckets": dict.fromkeys(
                        (key for key, _label in AGED_BUCKETS), 0.0
                    ),
                },
            )
            total["amount"] += item["amount"]
            total["residual"] += item["residual"]
            total["buckets"][item["bucket"]] += item["residual"]
        return [
            dict(
                total,
                buckets=[
                    {"key": key, "amount": amount}
                    for key, amount in total["buckets"].items()
                ],
            )
            for total in totals.values()
        ]

    # ------------------------------------------------------------------
    # Values of the statements
    # ------------------------------------------------------------------

    @api.model
    def _get_statements(self, partners, today=None):
        """One dict of statement values per partner (its commercial partner's
        open items); a customer with no open item is refused."""
        company = self.env.company
        today = today or fields.Date.context_today(self)
        customers = partners.commercial_partner_id
        items = self._read_open_items(company, customers.ids, today)
        empty = customers.filtered(lambda p: not items.get(p.id))
        if empty:
            raise UserError(
                _(
                    "No open item in %(company)s for: %(partners)s. There is no "
                    "statement to print.",
                    company=company.name,
                    partners=", ".join(empty.mapped("display_name")),
                )
            )
        return [
            self._prepare_statement(
                partner, partner.commercial_partner_id, company, items, today
            )
            for partner in partners
        ]

    @api.model
    def _prepare_statement(self, record, partner, company, items, today):
        """The values of one statement (see ``relance_statement_document``)."""
        recipient = partner._relance_get_recipient()
        lang = self._get_document_lang(partner, recipient, company)
        # Texts made here with _() in the statement's language too.
        self = self.with_context(lang=lang)  # noqa: PLW0642
        partner = partner.with_context(lang=lang)
        recipient = recipient.with_context(lang=lang)
        company = company.with_context(lang=lang)
        lines = items[partner.id]
        return {
            **self._prepare_letterhead(record, company, partner, recipient, lang),
            "date": today,
            "lines": lines,
            "totals": self._get_currency_totals(lines),
        }

    # ------------------------------------------------------------------
    # Rendering for the batch and the handover file
    # ------------------------------------------------------------------

    @api.model
    def _render_statement_pdfs(self, partners):
        """The statement PDF of each of these customers, for attachments:
        ``({partner_id: pdf bytes}, {partner_id: error message})``.

        Rendered in one wkhtmltopdf call, which Odoo splits per customer when
        each statement fills one page (the usual case); else one customer per
        call. A failure never raises: it is returned, and the caller goes on
        without that statement.
        """
        Report = self.env["ir.actions.report"]
        pdfs, errors = {}, {}
        if not partners:
            return pdfs, errors
        if len(partners) > 1:
            try:
                with self.env.cr.savepoint():
                    streams, report_type = Report._pre_render_qweb_pdf(
                        STATEMENT_REPORT, res_ids=partners.ids
                    )
            except Exception as error:  # noqa: BLE001 - any rendering failure
                _logger.info("Combined statements failed (%s): one by one", error)
                streams, report_type = {}, None
            if report_type == "pdf" and all(
                streams.get(pid, {}).get("stream") for pid in partners.ids
            ):
                return {
                    pid: streams[pid]["stream"].getvalue() for pid in partners.ids
                }, errors
        for partner in partners:
            try:
                with self.env.cr.savepoint():
                    pdfs[partner.id] = Report._render_qweb_pdf(
                        STATEMENT_REPORT, partner.ids
                    )[0]
            except Exception as error:  # noqa: BLE001 - any rendering failure
                _logger.warning(
                    "Statement of partner %s not rendered: %s", partner.id, error
                )
                errors[partner.id] = str(error)
        return pdfs, errors
