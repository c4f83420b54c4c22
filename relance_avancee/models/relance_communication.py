import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize

from .relance_level import CHANNELS, TONES

_logger = logging.getLogger(__name__)

COMMUNICATION_STATES = [
    ("todo", "To do"),
    ("sent", "Sent"),
    ("error", "Error"),
    ("cancelled", "Cancelled"),
]
LETTER_CHANNELS = ("letter", "formal_notice")
# Set once a combined invoice render failed in this worker: render one by one.
_COMBINED_PDF = [False]
# Stricter than Odoo's lenient normaliser, which accepts "jean@@x" as "@x".
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z0-9-]{2,}$")


class RelanceCommunication(models.Model):
    """One communication to one customer on one channel: an email, an SMS, a
    letter to print or a task for a person, listing all the customer's invoices
    due at that step. Mail and SMS templates render on this model."""

    _name = "relance.communication"
    _description = "Dunning communication"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        readonly=True,
        ondelete="cascade",
    )
    recipient_id = fields.Many2one(
        "res.partner",
        readonly=True,
        help="The customer's billing contact when it has one.",
    )
    level_id = fields.Many2one("relance.level", readonly=True)
    profile_id = fields.Many2one("relance.profile", readonly=True)
    kind = fields.Selection(
        [
            ("courtesy", "Courtesy notice"),
            ("reminder", "Reminder"),
            ("thanks", "Thank-you"),
        ],
        required=True,
        default="reminder",
        readonly=True,
    )
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    tone = fields.Selection(TONES, readonly=True)
    manual = fields.Boolean(
        readonly=True, help="A person sends this communication or does this task."
    )
    state = fields.Selection(
        COMMUNICATION_STATES, default="todo", required=True, index=True, readonly=True
    )
    date = fields.Date(default=fields.Date.context_today, required=True, readonly=True)
    sent_date = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", string="Responsible", readonly=True)
    history_ids = fields.One2many(
        "relance.history", "communication_id", string="Invoices", readonly=True
    )
    move_ids = fields.Many2many(
        "account.move", compute="_compute_move_ids", string="Invoices listed"
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company currency"
    )
    amount_total = fields.Monetary(
        string="Amount due",
        currency_field="company_currency_id",
        compute="_compute_amount_total",
        store=True,
    )
    error_reason = fields.Text(readonly=True)
    mail_message_id = fields.Many2one(
        "mail.message", readonly=True, index="btree_not_null"
    )
    activity_id = fields.Many2one(
        "mail.activity", readonly=True, index="btree_not_null"
    )
    sms_number = fields.Char(string="SMS number", readonly=True)
    retry_count = fields.Integer(readonly=True)

    @api.depends("partner_id", "level_id", "kind", "date")
    def _compute_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for comm in self:
            step = comm.level_id.name or kinds.get(comm.kind) or ""
            comm.name = f"{comm.partner_id.name or ''} – {step} – {comm.date or ''}"

    @api.depends("history_ids.move_id")
    def _compute_move_ids(self):
        for comm in self:
            comm.move_ids = comm.history_ids.move_id

    @api.depends("history_ids.amount_company", "history_ids.state")
    def _compute_amount_total(self):
        for comm in self:
            comm.amount_total = sum(
                comm.history_ids.filtered(lambda h: h.state != "cancelled").mapped(
                    "amount_company"
                )
            )

    # ------------------------------------------------------------------
    # Helpers for templates and reports
    # ------------------------------------------------------------------

    def _get_lines(self):
        """The history rows listed by this communication, oldest due date first."""
        self.ensure_one()
        return self.history_ids.filtered(lambda h: h.state != "cancelled").sorted(
            lambda h: (h.due_date or fields.Date.today(), h.move_id.name or "")
        )

    def _get_totals(self):
        """Amounts due per currency, as ``[{'currency': ..., 'amount': ...}]``."""
        self.ensure_one()
        totals = {}
        for row in self._get_lines():
            totals[row.currency_id] = (
                totals.get(row.currency_id, 0.0) + row.amount_residual
            )
        return [
            {"currency": currency, "amount": amount}
            for currency, amount in totals.items()
        ]

    def _get_payment_reference(self):
        """Payment references of the listed invoices, for the transfer."""
        self.ensure_one()
        return ", ".join(
            self._get_lines().move_id.mapped(lambda m: m.payment_reference or m.name)
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_send(self):
        """Send now the communications a person was asked to send."""
        todo = self.filtered(lambda c: c.state == "todo")
        if not todo:
            raise UserError(_("Only communications still to do can be sent."))
        todo._check_lines_still_due()
        todo.filtered(lambda c: c.state == "todo")._dispatch(from_person=True)
        return True

    def action_retry(self):
        """Send once more the communications that ended in error."""
        failed = self.filtered(lambda c: c.state == "error")
        if not failed:
            raise UserError(_("Only communications in error can be sent again."))
        for comm in failed:
            comm.history_ids.filtered(lambda h: h.state == "error").write(
                {"state": "todo", "reason": False}
            )
            comm.write(
                {
                    "state": "todo",
                    "error_reason": False,
                    "retry_count": comm.retry_count + 1,
                }
            )
        failed._check_lines_still_due()
        failed.filtered(lambda c: c.state == "todo")._dispatch(from_person=True)
        return True

    def action_cancel(self):
        """Cancel communications that were not sent."""
        if any(comm.state == "sent" for comm in self):
            raise UserError(_("A sent communication cannot be cancelled."))
        self._set_state("cancelled", reason=_("Cancelled by %s.", self.env.user.name))
        self.activity_id.unlink()
        return True

    def action_print(self):
        """Print letters and formal notices in one PDF, and record them as sent.

        The PDF is rendered first: a letter counts as sent only once its
        document exists. Letters paid or disputed since the batch are cancelled
        and left out.
        """
        letters = self.filtered(lambda c: c.channel in LETTER_CHANNELS)
        if not letters:
            raise UserError(_("Select letters or formal notices to print."))
        if any(comm.state in ("cancelled", "error") for comm in letters):
            raise UserError(
                _("Letters cancelled or in error cannot be printed: fix them first.")
            )
        reports = letters.level_id.report_id
        if len(reports) != 1:
            raise UserError(_("Print letters of one kind at a time."))
        pending = letters.filtered(lambda c: c.state == "todo")
        pending._check_lines_still_due()
        letters = letters.filtered(lambda c: c.state != "cancelled")
        if not letters:
            raise UserError(_("Nothing left to print: these invoices were settled."))
        content, _report_type = self.env["ir.actions.report"]._render_qweb_pdf(
            reports, letters.ids
        )
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{reports.name} - {fields.Date.context_today(self)}.pdf",
                "raw": content,
                "mimetype": "application/pdf",
                "res_model": self._name,
                "res_id": letters[0].id,
            }
        )
        letters.filtered(lambda c: c.state == "todo")._mark_sent(by_person=True)
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_mark_done(self):
        """Record a task (phone call, manual step) as done."""
        self.filtered(lambda c: c.state == "todo")._mark_sent(by_person=True)
        return True

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def _check_lines_still_due(self):
        """Cancel the rows of invoices paid or disputed since the scan; cancel a
        communication left with nothing to chase."""
        for comm in self:
            if comm.kind == "thanks":
                continue
            for row in comm.history_ids.filtered(lambda h: h.state == "todo"):
                reason = row.move_id._relance_get_not_due_reason()
                if reason:
                    row.write({"state": "cancelled", "reason": reason})
            if not comm.history_ids.filtered(lambda h: h.state != "cancelled"):
                comm.write(
                    {
                        "state": "cancelled",
                        "error_reason": _("Nothing left to chase."),
                    }
                )

    def _dispatch(self, from_person=False):
        """Send each communication on its channel, or hand it to a person.

        Bad recipient data ends as an error state with its reason; the other
        communications go on.
        """
        for comm in self.with_context(relance_by_person=from_person):
            if comm.manual and not from_person:
                comm._schedule_activity()
                continue
            reason = comm._get_recipient_error()
            if reason:
                comm._set_state("error", reason=reason)
                continue
            sender = getattr(comm, f"_send_{comm.channel}")
            sender()

    def _get_recipient_error(self):
        """Why this communication cannot reach its recipient, or ``False``."""
        self.ensure_one()
        recipient = self.recipient_id or self.partner_id
        if not self.partner_id.active:
            return _(
                "The customer %s is archived: restore it or exclude it from dunning.",
                self.partner_id.display_name,
            )
        if self.channel == "email" or self.kind == "thanks":
            if not recipient.email:
                return _("%s has no email address.", recipient.display_name)
            normalized = email_normalize(recipient.email)
            if not normalized or not EMAIL_RE.match(normalized):
                return _(
                    "The email address %(email)s of %(partner)s is invalid.",
                    email=recipient.email,
                    partner=recipient.display_name,
                )
            if recipient.is_blacklisted:
                return _(
                    "The email address %(email)s of %(partner)s is blacklisted.",
                    email=recipient.email,
                    partner=recipient.display_name,
                )
        elif self.channel == "sms":
            number, reason = self._get_sms_number(recipient)
            if reason:
                return reason
        elif self.channel in LETTER_CHANNELS:
            missing = [
                label
                for fname, label in (
                    ("street", _("street")),
                    ("zip", _("zip code")),
                    ("city", _("city")),
                    ("country_id", _("country")),
                )
                if not recipient[fname]
            ]
            if missing:
                return _(
                    "The postal address of %(partner)s is incomplete: %(missing)s "
                    "missing.",
                    partner=recipient.display_name,
                    missing=", ".join(missing),
                )
        return False

    def _get_sms_number(self, recipient):
        """Return ``(number_e164, error_reason)`` for ``recipient``."""
        raw = recipient.mobile or recipient.phone
        if not raw:
            return False, _("%s has no mobile or phone number.", recipient.display_name)
        country = recipient.country_id or self.company_id.country_id
        try:
            number = recipient._phone_format_number(
                raw, country=country, force_format="E164", raise_exception=True
            )
        except UserError as error:
            return False, _(
                "The phone number %(number)s of %(partner)s is invalid: %(error)s",
                number=raw,
                partner=recipient.display_name,
                error=error.args[0],
            )
        blacklisted = (
            self.env["phone.blacklist"]
            .sudo()
            .search_count([("number", "=", number), ("active", "=", True)], limit=1)
        )
        if blacklisted:
            return False, _(
                "The phone number %(number)s of %(partner)s is blacklisted.",
                number=number,
                partner=recipient.display_name,
            )
        return number, False

    def _get_mail_template(self):
        self.ensure_one()
        if self.kind == "thanks":
            return self.profile_id.thank_you_template_id
        return self.level_id.mail_template_id

    def _send_email(self):
        """Queue the email in Odoo's mail queue and log it on the invoices."""
        self.ensure_one()
        template = self._get_mail_template()
        if not template:
            self._set_state(
                "error",
                reason=_(
                    "No email template is set for %s.",
                    self.level_id.display_name or self.profile_id.display_name,
                ),
            )
            return
        recipient = self.recipient_id or self.partner_id
        values = template._generate_template(
            self.ids,
            ("subject", "body_html", "email_from", "reply_to", "attachment_ids"),
        )[self.id]
        attachments, pdf_error = [], False
        if self.kind != "thanks":
            try:
                with self.env.cr.savepoint():
                    attachments = self._get_invoice_attachments()
            except Exception as error:  # noqa: BLE001 - any rendering failure
                # A reminder without the invoice PDFs beats no reminder: send it
                # and say so on its rows.
                _logger.warning("Invoice PDFs of %s not rendered: %s", self, error)
                pdf_error = _(
                    "Sent without the invoice PDFs, which could not be rendered: %s",
                    error,
                )
        message = self.partner_id.with_context(
            mail_notify_force_send=False, mail_post_autofollow=False
        ).message_post(
            body=values.get("body_html") or "",
            subject=values.get("subject"),
            email_from=values.get("email_from") or None,
            reply_to=values.get("reply_to") or None,
            partner_ids=recipient.ids,
            attachments=attachments,
            attachment_ids=values.get("attachment_ids") or [],
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
        )
        self.mail_message_id = message
        self._mark_sent()
        if pdf_error:
            self.history_ids.filtered(lambda h: h.state == "sent").reason = pdf_error

    def _get_invoice_attachments(self):
        """The PDFs of the listed invoices, as ``[(name, raw_bytes)]``: the
        invoice's own PDF when Odoo keeps one, the others rendered together in
        one wkhtmltopdf call and split per invoice."""
        self.ensure_one()
        moves = self._get_lines().move_id.filtered(lambda m: m.is_invoice())
        attachments = []
        to_render = moves.browse()
        for move in moves:
            if move.invoice_pdf_report_id:
                pdf = move.invoice_pdf_report_id
                attachments.append((pdf.name, pdf.raw))
            else:
                to_render |= move
        if to_render:
            by_move = {}
            if len(to_render) > 1 and not _COMBINED_PDF[0]:
                try:
                    with self.env.cr.savepoint():
                        by_move = self._render_invoice_pdfs(to_render)
                except Exception as error:  # noqa: BLE001 - one by one below
                    # Some wkhtmltopdf builds (Debian's, without patched Qt) give
                    # no splittable combined PDF: this worker renders each
                    # invoice alone from now on, as Odoo itself would.
                    _COMBINED_PDF[0] = True
                    _logger.info("Combined invoice PDFs failed (%s): one by one", error)
            for move in to_render:
                if move.id not in by_move:
                    by_move.update(self._render_invoice_pdfs(move))
            attachments += [
                (move._get_invoice_report_filename(), by_move[move.id])
                for move in to_render
            ]
        return attachments

    def _render_invoice_pdfs(self, moves):
        """``{move_id: pdf_bytes}`` of ``moves``, rendered in one call."""
        report = self.env["ir.actions.report"]
        content, report_type = report._pre_render_qweb_pdf(
            "account.account_invoices", moves.ids
        )
        return report._get_splitted_report(
            "account.account_invoices", content, report_type
        )

    def _send_sms(self):
        """Queue the SMS in Odoo's SMS queue (sent through IAP by its cron)."""
        self.ensure_one()
        template = self.level_id.sms_template_id
        if not template:
            self._set_state(
                "error",
                reason=_("No SMS template is set for %s.", self.level_id.display_name),
            )
            return
        recipient = self.recipient_id or self.partner_id
        number, _reason = self._get_sms_number(recipient)
        body = template._render_field("body", self.ids, compute_lang=True)[self.id]
        message = self.partner_id._message_sms(
            body,
            partner_ids=recipient.ids,
            sms_pid_to_number={recipient.id: number},
            put_in_queue=True,
        )
        self.write({"mail_message_id": message.id, "sms_number": number})
        self._mark_sent()

    def _send_letter(self):
        """Letters wait in the print queue: the rows stay to do until printed."""
        self.ensure_one()
        self._log_on_moves(
            _("Dunning letter %s queued for printing.", self.level_id.display_name)
        )

    def _send_formal_notice(self):
        self.ensure_one()
        self._log_on_moves(
            _("Formal notice %s queued for printing.", self.level_id.display_name)
        )

    def _send_phone(self):
        self.ensure_one()
        self._schedule_activity()

    def _schedule_activity(self):
        """Give this step to a person as a ``mail.activity`` on the customer."""
        self.ensure_one()
        if self.activity_id:
            return
        level = self.level_id
        user = self.user_id or level._get_responsible_user(self.partner_id)
        activity_type = level.activity_type_id or (
            self.env.ref("mail.mail_activity_data_call")
            if self.channel == "phone"
            else self.env.ref("relance_avancee.mail_activity_type_relance")
        )
        activity = self.partner_id.activity_schedule(
            activity_type_id=activity_type.id,
            date_deadline=self.date,
            summary=_(
                "%(step)s: %(partner)s", step=level.name, partner=self.partner_id.name
            ),
            note=self._render_activity_note(),
            user_id=user.id,
        )
        activity.relance_communication_id = self
        self.write({"activity_id": activity.id, "user_id": user.id})
        self.history_ids.filtered(lambda h: h.state == "todo").write(
            {"user_id": user.id}
        )

    def _render_activity_note(self):
        """The task's note: the invoices, the balance and the recent history."""
        self.ensure_one()
        return self.env["ir.qweb"]._render(
            "relance_avancee.relance_activity_note",
            {"comm": self, "history": self.partner_id._relance_get_recent_history()},
        )

    def _add_rows(self, rows, level):
        """Add invoices that reached a step to this waiting communication."""
        self.ensure_one()
        rows.write({"communication_id": self.id, "user_id": self.user_id.id})
        if (level.delay, level.sequence) > (
            self.level_id.delay,
            self.level_id.sequence,
        ):
            self.level_id = level
        body = _(
            "Added to the waiting %s for this customer.", self.level_id.display_name
        )
        rows.move_id._message_log_batch(bodies=dict.fromkeys(rows.move_id.ids, body))
        if self.activity_id:
            self.activity_id.note = self._render_activity_note()

    def _mark_sent(self, by_person=None):
        """Record these communications as made: by the batch on its day, or by
        a person today."""
        now = fields.Datetime.now()
        if by_person is None:
            by_person = self.env.context.get("relance_by_person", False)
        today = fields.Date.context_today(self)
        for comm in self:
            rows = comm.history_ids.filtered(lambda h: h.state in ("todo", "error"))
            rows.write(
                {
                    "state": "sent",
                    "sent_date": now,
                    "done_date": today if by_person else comm.date,
                    "reason": False,
                }
            )
            comm.write({"state": "sent", "sent_date": now, "error_reason": False})
            if comm.activity_id:
                comm.activity_id.with_context(
                    relance_skip_activity_hook=True
                ).action_feedback(feedback=_("Done from the dunning communication."))
            channel = (
                comm.level_id._get_channel_label() if comm.level_id else _("Email")
            )
            comm._log_on_moves(
                _(
                    "%(step)s sent by %(channel)s to %(recipient)s.",
                    step=comm.level_id.name or _("Thank-you message"),
                    channel=channel,
                    recipient=(comm.recipient_id or comm.partner_id).display_name,
                )
            )

    def _set_state(self, state, reason=False, from_states=("todo", "error")):
        for comm in self:
            rows = comm.history_ids.filtered(lambda h: h.state in from_states)
            rows.write({"state": state, "reason": reason})
            comm.write({"state": state, "error_reason": reason})
        if state == "error":
            _logger.info("Dunning communications %s in error: %s", self.ids, reason)

    def _log_on_moves(self, body):
        """Log a note on each listed invoice, in one batch."""
        moves = self.history_ids.move_id
        if moves:
            moves._message_log_batch(bodies={move.id: body for move in moves})

    @api.model
    def _on_delivery_failure(self, messages, reason, channel="email"):
        """The mail or SMS queue could not deliver ``messages``: their
        communications go to error, to be fixed and sent again once."""
        comms = self.sudo().search(
            [
                ("mail_message_id", "in", messages.ids),
                ("state", "=", "sent"),
                ("channel", "=", channel)
                if channel == "sms"
                else ("channel", "!=", "sms"),
            ]
        )
        message = (
            _("The SMS provider refused the SMS: %s", reason or "")
            if channel == "sms"
            else _("The mail server refused the email: %s", reason or "")
        )
        comms._set_state("error", reason=message, from_states=("sent",))
