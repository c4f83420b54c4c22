import io

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import split_every
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

# Letters rendered per wkhtmltopdf call: one call on hundreds of letters can
# exhaust the memory or the file handles of the worker (one temporary file per
# letter). The system parameter ``relance_avancee.print_chunk_size`` overrides it.
PRINT_CHUNK_SIZE = 50


class RelancePrintBatch(models.Model):
    """One print of letters and formal notices: the merged PDF, the letters it
    holds, and whether the user confirmed they were posted.

    Printing does not send: the letters of the batch stay *to do* until the
    user confirms they were printed and posted; each letter then keeps a link
    to the PDF it was posted in (``relance.communication.print_attachment_id``).
    A batch of letters already sent is a reprint: it changes no state.
    """

    _name = "relance.print.batch"
    _description = "Dunning letters print batch"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True)
    date = fields.Datetime(
        string="Printed on", default=fields.Datetime.now, required=True, readonly=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Printed by",
        default=lambda self: self.env.user,
        required=True,
        readonly=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    communication_ids = fields.Many2many(
        "relance.communication",
        "relance_print_batch_communication_rel",
        "batch_id",
        "communication_id",
        string="Letters",
        readonly=True,
        check_company=True,
    )
    attachment_id = fields.Many2one(
        "ir.attachment", string="Document", readonly=True, ondelete="set null"
    )
    state = fields.Selection(
        [
            ("printed", "Printed, to confirm"),
            ("confirmed", "Posted"),
            ("cancelled", "Cancelled"),
        ],
        default="printed",
        required=True,
        readonly=True,
    )
    letter_count = fields.Integer(string="Letters printed", readonly=True)
    page_count = fields.Integer(string="Pages", readonly=True)
    todo_count = fields.Integer(
        string="Letters to confirm",
        compute="_compute_todo_count",
        help="Letters of this print still to do: confirming the batch records "
        "them as sent. The others are reprints of letters already sent.",
    )
    confirm_date = fields.Datetime(string="Confirmed on", readonly=True)

    @api.depends("communication_ids.state")
    def _compute_todo_count(self):
        for batch in self:
            batch.todo_count = len(
                batch.communication_ids.filtered(lambda c: c.state == "todo")
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_download(self):
        """Download the merged PDF of this print."""
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(_("The document of this print was deleted."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "download",
        }

    def action_confirm(self):
        """The letters were printed and posted: record the letters still to do
        as sent, in one go, each keeping the PDF it was posted in. Letters
        already sent (a reprint) keep their state and their first document."""
        batches = self.filtered(lambda b: b.state == "printed")
        if not batches:
            raise UserError(_("Only a print still to confirm can be confirmed."))
        for batch in batches:
            todo = batch.communication_ids.filtered(lambda c: c.state == "todo")
            todo.write({"print_attachment_id": batch.attachment_id.id})
            todo._mark_sent(by_person=True)
        batches.write({"state": "confirmed", "confirm_date": fields.Datetime.now()})
        return True

    def action_cancel(self):
        """The letters were not posted: they stay to do, to print again."""
        if any(batch.state == "confirmed" for batch in self):
            raise UserError(_("A confirmed print cannot be cancelled."))
        self.write({"state": "cancelled"})
        return True

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    @api.model
    def _print_communications(self, communications):
        """Render ``communications`` (letters and formal notices) into one PDF
        and record the print batch; nothing is marked sent.

        Letters still to do whose invoices were paid or disputed since the
        dunning batch are cancelled and left out; a reprint (a letter already
        sent) is rendered at the date it was sent.

        :raise UserError: for communications that are not letters, cancelled
            or in error, of several companies, or whose recipient has no
            complete postal address (all the customers listed at once)
        :return: the new ``relance.print.batch``
        """
        self.check_access("create")
        letters = communications._relance_check_printable()
        letters.filtered(lambda c: c.state == "todo")._check_lines_still_due()
        letters = letters.filtered(lambda c: c.state != "cancelled")
        if not letters:
            raise UserError(
                _("Nothing left to print: the invoices of these letters were settled.")
            )
        letters._relance_check_postal_addresses()
        self._check_bank_account(letters.company_id)
        content, mimetype, page_count = self._render_letters(letters)
        now = fields.Datetime.now()
        local_now = fields.Datetime.context_timestamp(self, now)
        name = _(
            "Letters printed on %(date)s",
            date=local_now.strftime("%Y-%m-%d %H:%M"),
        )
        batch = self.create(
            {
                "name": name,
                "date": now,
                "company_id": letters.company_id.id,
                "communication_ids": [fields.Command.set(letters.ids)],
                "letter_count": len(letters),
                "page_count": page_count,
            }
        )
        extension = "pdf" if mimetype == "application/pdf" else "html"
        batch.attachment_id = self.env["ir.attachment"].create(
            {
                "name": f"{name}.{extension}",
                "raw": content,
                "mimetype": mimetype,
                "res_model": self._name,
                "res_id": batch.id,
            }
        )
        return batch

    @api.model
    def _check_bank_account(self, company):
        """Refuse to print letters that could not say where to pay: the
        company has no bank account."""
        if not company._relance_get_bank_account():
            raise UserError(
                _(
                    "%(company)s has no bank account: the letters must say where "
                    "to pay. Add the company's bank account (Accounting > "
                    "Configuration > Bank Accounts) and print again.",
                    company=company.display_name,
                )
            )

    @api.model
    def _get_chunk_size(self):
        """Letters per wkhtmltopdf call (see :data:`PRINT_CHUNK_SIZE`)."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()  # sudo: reading one technical setting, no data exposed
            .get_param("relance_avancee.print_chunk_size")
        )
        try:
            size = int(value) if value else PRINT_CHUNK_SIZE
        except ValueError:
            size = PRINT_CHUNK_SIZE
        return max(size, 1)

    @api.model
    def _sort_letters(self, letters):
        """Print order: reminder letters before formal notices, each report's
        letters by customer name."""
        return letters.sorted(
            lambda c: (
                c.channel == "formal_notice",
                c.level_id.report_id.id,
                (c.partner_id.name or "").lower(),
                c.id,
            )
        )

    @api.model
    def _render_letters(self, letters):
        """Render ``letters`` with the report of their step, a chunk of
        letters per wkhtmltopdf call, and merge the chunks into one PDF.

        :return: ``(content, mimetype, page_count)``
        """
        chunk_size = self._get_chunk_size()
        chunks = []
        html = False
        letters = self._sort_letters(letters)
        for report, group in letters.grouped(lambda c: c.level_id.report_id).items():
            if not report:
                raise UserError(
                    _(
                        "The step of these letters has no letter report: %(letters)s",
                        letters=", ".join(group.mapped("display_name")),
                    )
                )
            for ids in split_every(chunk_size, group.ids, list):
                content, is_pdf = self._render_chunk(report, ids)
                html = html or not is_pdf
                chunks.append(content)
        if html:
            return b"".join(chunks), "text/html", 0
        return self._merge(chunks)

    @api.model
    def _render_chunk(self, report, ids):
        """One wkhtmltopdf call for the letters ``ids`` of ``report``.

        Odoo hands wkhtmltopdf one HTML file per letter; the wkhtmltopdf built
        against an unpatched Qt (Debian's) refuses more than one input
        document, and hundreds of files exhaust the file handles anyway. The
        letters of the chunk are put in one HTML document instead, each
        starting on a new page.

        :return: ``(content, is_pdf)``
        """
        Report = self.env["ir.actions.report"].with_context(
            webp_as_jpg=True, debug=False
        )
        if (
            tools.config["test_enable"] or tools.config["test_file"]
        ) and not self.env.context.get("force_report_rendering"):
            # As Odoo does in tests, unless a test forces the rendering: HTML.
            content, _report_type = Report._render_qweb_html(
                report, ids, data={"report_type": "pdf"}
            )
            return content, False
        if Report.get_wkhtmltopdf_state() == "install":
            raise UserError(
                _("wkhtmltopdf is not installed: the letters cannot be rendered.")
            )
        html = Report._render_qweb_html(
            report, ids, data={"report_type": "pdf", "debug": False}
        )[0]
        report_sudo = Report._get_report(report)
        bodies, _html_ids, header, footer, paperformat_args = report_sudo._prepare_html(
            html, report_model=report_sudo.model
        )
        content = Report._run_wkhtmltopdf(
            [Report._relance_join_bodies(bodies)],
            report_ref=report,
            header=header,
            footer=footer,
            specific_paperformat_args=paperformat_args,
        )
        if not content:
            raise UserError(_("wkhtmltopdf produced no document for these letters."))
        return content, True

    @api.model
    def _merge(self, chunks):
        """Merge the PDF ``chunks`` into one document.

        :return: ``(content, "application/pdf", page_count)``
        """
        writer = PdfFileWriter()
        page_count = 0
        for chunk in chunks:
            reader = PdfFileReader(io.BytesIO(chunk), strict=False)
            for page in reader.pages:
                writer.add_page(page)
                page_count += 1
        with io.BytesIO() as buffer:
            writer.write(buffer)
            content = buffer.getvalue()
        return content, "application/pdf", page_count
