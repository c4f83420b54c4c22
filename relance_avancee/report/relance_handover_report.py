"""Proof of the amicable phase: every reminder sent to a customer (date, step,
channel, recipient, invoice) and its formal notices, for the handover file
given to a collection agency or a lawyer."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError


class ReportRelanceHandoverProof(models.AbstractModel):
    _name = "report.relance_avancee.report_relance_handover_proof"
    _inherit = "relance.letter.report.mixin"
    _description = "Proof of the amicable phase"

    @api.model
    def _get_report_values(self, docids, data=None):
        docs = self.env["res.partner"].browse(docids)
        docs.check_access("read")
        hidden = docs - docs._relance_filter_visible()
        if hidden:
            raise AccessError(
                _(
                    "You may not print the dunning history of %s: only its "
                    "salesperson and the accounting team see its receivables.",
                    ", ".join(hidden.mapped("display_name")),
                )
            )
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": docs,
            "proofs": self._get_proofs(docs),
        }

    @api.model
    def _get_sent_rows(self, company, partners):
        """The reminders sent to these customers in ``company``, oldest first:
        ``{partner_id: relance.history}``."""
        rows = self.env["relance.history"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "in", partners.commercial_partner_id.ids),
                ("state", "=", "sent"),
                ("kind", "in", ("courtesy", "reminder")),
            ],
            order="date, id",
        )
        result = {partner.id: rows.browse() for partner in partners}
        for row in rows:
            result[row.partner_id.id] |= row
        return result

    @api.model
    def _get_formal_notices(self, company, partners):
        """The formal notices sent to these customers in ``company``:
        ``{partner_id: relance.communication}``."""
        comms = self.env["relance.communication"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "in", partners.commercial_partner_id.ids),
                ("channel", "=", "formal_notice"),
                ("state", "=", "sent"),
            ],
            order="date, id",
        )
        return {
            partner.id: comms.filtered(
                lambda c, p=partner: c.partner_id == p.commercial_partner_id
            )
            for partner in partners
        }

    @api.model
    def _get_proofs(self, partners):
        company = self.env.company
        rows_by_partner = self._get_sent_rows(company, partners)
        notices_by_partner = self._get_formal_notices(company, partners)
        channels = dict(
            self.env["relance.history"]
            ._fields["channel"]
            ._description_selection(self.env)
        )
        # Another addon may record the registered-mail number of a notice.
        has_number = "registered_number" in self.env["relance.communication"]._fields
        proofs = []
        for partner in partners:
            commercial = partner.commercial_partner_id
            lang = commercial.lang or company.partner_id.lang or self.env.lang
            company_partner = company.partner_id.with_context(lang=lang)
            rows = rows_by_partner[partner.id].with_context(lang=lang)
            proofs.append(
                {
                    "record": partner,
                    "lang": lang,
                    "company": company.with_context(lang=lang),
                    "company_address": self._get_address_lines(company_partner),
                    "partner": commercial.with_context(lang=lang),
                    "date": fields.Date.context_today(self),
                    "rows": [
                        {
                            "date": row.done_date or row.date,
                            "step": row.level_id.name
                            or row._fields["kind"].convert_to_export(row.kind, row),
                            "channel": channels.get(row.channel, row.channel),
                            "recipient": (
                                row.communication_id.recipient_id or row.partner_id
                            ).display_name,
                            "invoice": row.move_id.name,
                            "amount": row.amount_residual,
                            "currency": row.currency_id or company.currency_id,
                        }
                        for row in rows
                    ],
                    "formal_notices": [
                        {
                            "date": comm.sent_date.date()
                            if comm.sent_date
                            else comm.date,
                            "step": comm.level_id.name or "",
                            "recipient": (
                                comm.recipient_id or comm.partner_id
                            ).display_name,
                            "registered_number": (
                                comm["registered_number"] if has_number else False
                            ),
                        }
                        for comm in notices_by_partner[partner.id]
                    ],
                }
            )
        return proofs
