from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date
from odoo.tools.pdf import merge_pdf

from ..report.relance_statement_report import STATEMENT_REPORT

PROOF_REPORT = "relance_avancee.action_report_relance_handover_proof"


class RelanceHandoverWizard(models.TransientModel):
    """Hand a customer over to a collection agency or a lawyer: build the
    handover file (statement, unpaid invoices, proof of the amicable phase,
    formal notices) and stop the customer's dunning."""

    _name = "relance.handover.wizard"
    _description = "Hand over to collection"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        domain="[('parent_id', '=', False)]",
    )
    to_partner_id = fields.Many2one(
        "res.partner",
        string="Handed over to",
        help="The collection agency or the lawyer, when it is a contact.",
    )
    to_name = fields.Char(
        string="Or name",
        help="Who the file is handed over to, when it is not a contact.",
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    note = fields.Text()

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if (
            "partner_id" in fields_list
            and not values.get("partner_id")
            and context.get("active_model") == "res.partner"
            and context.get("active_id")
        ):
            partner = self.env["res.partner"].browse(context["active_id"])
            values["partner_id"] = partner.commercial_partner_id.id
        return values

    def _get_handover_to(self):
        """Who the customer is handed over to, as written on the customer."""
        self.ensure_one()
        return self.to_partner_id.display_name or (self.to_name or "").strip()

    def _check_can_hand_over(self):
        if not self.env.user.has_group("relance_avancee.group_relance_user"):
            raise AccessError(
                _("Only the dunning team may hand a customer over to collection.")
            )
        partner = self.partner_id.commercial_partner_id
        partner.check_access("read")
        if not partner._relance_filter_visible():
            raise AccessError(
                _("You may not see the receivables of %s.", partner.display_name)
            )
        if not self._get_handover_to():
            raise UserError(
                _("Say who the customer is handed over to: a contact or a name.")
            )

    # ------------------------------------------------------------------
    # The handover file
    # ------------------------------------------------------------------

    def _get_statement_pdf(self, partner):
        return self.env["ir.actions.report"]._render_qweb_pdf(
            STATEMENT_REPORT, partner.ids
        )[0]

    def _get_invoice_pdfs(self, partner):
        """The PDFs of the customer's unpaid invoices (those Odoo keeps on the
        invoice, the missing ones rendered and kept), oldest due first."""
        items = self.env[
            "report.relance_avancee.report_relance_statement"
        ]._read_open_items(self.company_id, partner.ids, self.date)
        moves = self.env["account.move"].browse(
            [
                item["move"].id
                for item in items.get(partner.id, [])
                if item["is_invoice"] and item["move"].is_invoice()
            ]
        )
        errors = moves._relance_ensure_invoice_pdfs()
        if errors:
            raise UserError(
                _(
                    "The PDF of these invoices could not be made: %(invoices)s "
                    "(%(error)s).",
                    invoices=", ".join(moves.browse(list(errors)).mapped("name")),
                    error=next(iter(errors.values())),
                )
            )
        return [move.invoice_pdf_report_id.raw for move in moves]

    def _get_proof_pdf(self, partner):
        return self.env["ir.actions.report"]._render_qweb_pdf(
            PROOF_REPORT, partner.ids
        )[0]

    def _get_formal_notice_pdfs(self, partner):
        """The formal notices sent to this customer, as they were sent (a
        reprint keeps their date and registered-mail number). Rendered for
        this customer alone: a PDF kept from a print of several customers'
        letters would carry the others' too."""
        notices = self.env[
            "report.relance_avancee.report_relance_handover_proof"
        ]._get_formal_notices(self.company_id, partner)[partner.id]
        if not notices:
            return []
        return [
            self.env["ir.actions.report"]._render_qweb_pdf(report, group.ids)[0]
            for report, group in notices.grouped(
                lambda c: (
                    c.level_id.report_id
                    or self.env.ref(
                        "relance_avancee.action_report_relance_communication_formal_notice"
                    )
                )
            ).items()
        ]

    def _build_file(self, partner):
        """The handover file of ``partner``: one PDF."""
        parts = [self._get_statement_pdf(partner)]
        parts += self._get_invoice_pdfs(partner)
        parts.append(self._get_proof_pdf(partner))
        parts += self._get_formal_notice_pdfs(partner)
        not_pdf = [part for part in parts if not part.startswith(b"%PDF")]
        if not_pdf:
            raise UserError(_("A document of the handover file is not a PDF."))
        return merge_pdf(parts)

    def action_confirm(self):
        """Build the handover file, keep it on the customer and post it in its
        chatter, and mark the customer's dunning as handed over: the batch
        sends it nothing until it is taken back."""
        self.ensure_one()
        self._check_can_hand_over()
        partner = self.partner_id.commercial_partner_id.with_company(self.company_id)
        content = self._build_file(partner)
        handover_to = self._get_handover_to()
        name = _(
            "Handover file - %(partner)s - %(date)s.pdf",
            partner=partner.name,
            date=fields.Date.to_string(self.date),
        )
        # sudo: a Dunning user (checked above) records the handover on a
        # customer they may see; billing users have no write access on
        # contacts, and only these dunning fields, the file and the chatter
        # note are written.
        partner_sudo = partner.sudo()
        # sudo: the handover file, attached to the customer written above.
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": name,
                    "raw": content,
                    "mimetype": "application/pdf",
                    "res_model": "res.partner",
                    "res_id": partner.id,
                }
            )
        )
        partner_sudo.write(
            {
                "relance_handover_state": "handed_over",
                "relance_handover_date": self.date,
                "relance_handover_to": handover_to,
            }
        )
        body = Markup("<p>%s</p>") % _(
            "Dunning handed over to %(to)s on %(date)s by %(user)s: the dunning "
            "batch sends nothing to this customer until it is taken back.",
            to=handover_to,
            date=format_date(self.env, self.date),
            user=self.env.user.name,
        )
        if self.note:
            body += Markup("<p>%s</p>") % self.note
        partner_sudo.message_post(
            body=body,
            attachment_ids=attachment.ids,
            subtype_xmlid="mail.mt_note",
            author_id=self.env.user.partner_id.id,
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
