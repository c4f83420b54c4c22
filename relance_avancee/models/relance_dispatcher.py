"""Sending dunning communications, per channel and in batch.

The executor (``relance.engine``) records a chunk of customers' communications,
then hands them here all at once: templates are rendered once per template and
language for the whole chunk, and the emails, their chatter messages,
notifications, SMS and activities are each created with one ``create``. An
email goes to the customer's billing recipient and the contacts its template
names, never to the customer's followers nor to an internal user (the message
is created on the customer's thread, so replies land in its chatter, but
nobody else is notified).
"""

import logging
from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.mail import generate_tracking_message_id, plaintext2html

_logger = logging.getLogger(__name__)


class RelanceDispatcher(models.AbstractModel):
    _name = "relance.dispatcher"
    _description = "Dunning dispatcher (sends communications in batch)"

    @api.model
    def _dispatch(self, comms, from_person=False):
        """Send each communication on its channel, or hand it to a person.

        Bad recipient data ends as an error state with its reason; the other
        communications go on.
        """
        comms = comms.with_context(relance_by_person=from_person)
        tasks = comms.filtered(lambda c: c.manual and not from_person)
        if tasks:
            self._schedule_activities(tasks)
        todo = comms - tasks
        # Recipients read once for the whole batch (blacklist included).
        (todo.recipient_id | todo.partner_id).mapped("is_blacklisted")
        sms_numbers = todo.filtered(lambda c: c.channel == "sms")._get_sms_numbers()
        errors = defaultdict(lambda: comms.browse())
        for comm in todo:
            reason = comm._get_recipient_error(sms_numbers=sms_numbers)
            if reason:
                errors[reason] |= comm
        for reason, failed in errors.items():
            failed._set_state("error", reason=reason)
            todo -= failed
        for channel, group in todo.grouped("channel").items():
            getattr(self, f"_send_{channel}")(group)

    # ------------------------------------------------------------------
    # Email
    # ------------------------------------------------------------------

    @api.model
    def _send_email(self, comms):
        """Queue one email per communication in Odoo's mail queue, in batch.

        Each email is a message on the customer's thread (its chatter log; a
        reply routes back to it) and a ``mail.mail`` addressed to the billing
        recipient alone: no follower is notified, nobody is subscribed.
        """
        by_template = defaultdict(lambda: comms.browse())
        for comm in comms:
            by_template[comm._get_mail_template()] |= comm
        missing = by_template.pop(self.env["mail.template"], comms.browse())
        for comm in missing:
            comm._set_state(
                "error",
                reason=_(
                    "No email template is set for %s.",
                    comm.level_id.display_name or comm.profile_id.display_name,
                ),
            )
        comms -= missing
        for template in [t for t in by_template if not t.active]:
            # An archived template was taken out of use: not sent in its name.
            archived = by_template.pop(template)
            archived._set_state(
                "error",
                reason=_(
                    "The email template %(template)s of %(step)s is archived: "
                    "restore it or choose another one.",
                    template=template.display_name,
                    step=archived[:1].level_id.display_name
                    or archived[:1].profile_id.display_name,
                ),
            )
            comms -= archived
        if not comms:
            return
        # The emails link each invoice to the customer portal.
        comms.history_ids.move_id._relance_ensure_portal_tokens()
        values = {}
        for template, group in list(by_template.items()):
            rendered, failed = self._render_email_template(template, group)
            values.update(rendered)
            if failed:
                by_template[template] -= failed
                comms -= failed
        if not comms:
            return
        recipients = self._get_email_recipients(comms, values)
        pdfs, pdf_errors = self._get_invoice_pdfs(comms)
        statements, statement_errors = self._get_statement_pdfs(comms)
        author = self.env.user.partner_id
        # sudo: the reply-to address (the company's catchall alias), read as
        # mail.thread does for any author.
        reply_tos = comms.partner_id.sudo()._notify_get_reply_to(default=False)
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        message_vals = []
        for comm in comms:
            vals = values[comm.id]
            email_from = vals.get("email_from") or author.email_formatted
            attachment_ids = (
                list(vals.get("attachment_ids") or [])
                + pdfs.get(comm.id, [])
                + statements.get(comm.id, [])
            )
            message_vals.append(
                {
                    "model": "res.partner",
                    "res_id": comm.partner_id.id,
                    "record_name": comm.partner_id.display_name,
                    "message_type": "comment",
                    "subtype_id": subtype_id,
                    "is_internal": False,
                    "author_id": author.id,
                    "email_from": email_from,
                    "reply_to": vals.get("reply_to")
                    or reply_tos.get(comm.partner_id.id)
                    or email_from,
                    "subject": vals.get("subject") or "",
                    "body": vals.get("body_html") or "",
                    "partner_ids": [Command.link(pid) for pid in recipients[comm.id]],
                    "attachment_ids": [Command.link(aid) for aid in attachment_ids],
                    "message_id": generate_tracking_message_id(
                        f"{comm.partner_id.id}-res.partner"
                    ),
                }
            )
        # sudo: the batch posts on the customer's thread the reminders it was
        # asked to send, like mail.thread's message_post (which creates its
        # messages as superuser); values come from our templates only.
        messages = self.env["mail.message"].sudo().create(message_vals)
        templates = {
            comm.id: template
            for template, group in by_template.items()
            for comm in group
        }
        # sudo: mail.mail is for system users; the queue entries of the
        # messages created just above, as mail.thread's notification does.
        mails = (
            self.env["mail.mail"]
            .sudo()
            .create(
                [
                    {
                        "mail_message_id": message.id,
                        "body_html": message_values["body"],
                        "recipient_ids": message_values["partner_ids"],
                        "auto_delete": templates[comm.id].auto_delete,
                        "is_notification": True,
                        "references": message.message_id,
                        "state": "outgoing",
                    }
                    for comm, message, message_values in zip(
                        comms, messages, message_vals, strict=True
                    )
                ]
            )
        )
        # The envelope in the customer's chatter shows the delivery status.
        # sudo: notifications are written by the mail engine only; these are
        # the ones of the messages just created.
        self.env["mail.notification"].sudo().create(
            [
                {
                    "mail_message_id": message.id,
                    "mail_mail_id": mail.id,
                    "res_partner_id": partner_id,
                    "notification_type": "email",
                    "notification_status": "ready",
                    "is_read": True,
                }
                for comm, message, mail in zip(comms, messages, mails, strict=True)
                for partner_id in recipients[comm.id]
            ]
        )
        for comm, message in zip(comms, messages, strict=True):
            comm.mail_message_id = message
        comms._mark_sent()
        for comm in comms:
            reasons = []
            if comm.id in pdf_errors:
                reasons.append(
                    _(
                        "Sent without the invoice PDFs, which could not be "
                        "rendered: %s",
                        pdf_errors[comm.id],
                    )
                )
            if comm.id in statement_errors:
                reasons.append(
                    _(
                        "Sent without the customer statement, which could not be "
                        "rendered: %s",
                        statement_errors[comm.id],
                    )
                )
            if reasons:
                comm.history_ids.filtered(
                    lambda h: h.state == "sent"
                ).reason = "\n".join(reasons)

    @api.model
    def _render_email_template(self, template, comms):
        """Render ``template`` for ``comms``: ``({comm_id: values}, failed)``.

        One QWeb compilation per template and language, not per customer.
        Should the batch render fail (a template with an error, or one
        customer's data it cannot render), each communication is rendered
        alone; those that still fail end in error with the template's error as
        their reason, and the others go.
        """
        fnames = (
            "subject",
            "body_html",
            "email_from",
            "reply_to",
            "partner_to",
            "attachment_ids",
        )
        template = template.with_context(relance_render_batch=True)
        try:
            # No savepoint on this path of every chunk: rendering writes nothing.
            return template._generate_template(comms.ids, fnames), comms.browse()
        except UserError as error:
            if len(comms) == 1:
                self._set_render_error(template, comms, error)
                return {}, comms
        values, failed = {}, comms.browse()
        for comm in comms:
            try:
                values.update(template._generate_template(comm.ids, fnames))
            except UserError as error:
                self._set_render_error(template, comm, error)
                failed |= comm
        return values, failed

    @api.model
    def _set_render_error(self, template, comms, error):
        _logger.warning("Dunning template %s not rendered: %s", template.id, error)
        comms._set_state(
            "error",
            reason=_(
                "The email template %(template)s could not be rendered: %(error)s",
                template=template.display_name,
                error=error.args[0] if error.args else repr(error),
            ),
        )

    @api.model
    def _get_email_recipients(self, comms, values):
        """Who receives each email: the customer's billing recipient, and the
        contacts the step's template names (``partner_to``), never an internal
        user: ``{communication_id: [partner_id, ...]}``."""
        named = self.env["res.partner"].browse(
            {pid for vals in values.values() for pid in vals.get("partner_ids") or []}
        )
        internal = set(
            named.filtered(lambda p: any(not u.share for u in p.user_ids)).ids
        )
        recipients = {}
        for comm in comms:
            main = (comm.recipient_id or comm.partner_id).id
            recipients[comm.id] = [main] + [
                pid
                for pid in dict.fromkeys(values[comm.id].get("partner_ids") or [])
                if pid != main and pid not in internal
            ]
        return recipients

    @api.model
    def _get_invoice_pdfs(self, comms):
        """The stored PDFs of the invoices listed by the communications whose
        step attaches them: ``({comm_id: [attachment_id]}, {comm_id: error})``.

        The batch renders the missing ones before it locks anything; whatever
        is still missing here (a person sending now, or a render that failed)
        is rendered now, once, and a failure never stops the email.
        """
        wanted = comms.filtered(
            lambda c: c.kind != "thanks" and c.level_id.attach_invoice_pdf
        )
        moves_by_comm = {
            comm.id: comm._get_lines().move_id.filtered(lambda m: m.is_invoice())
            for comm in wanted
        }
        moves = self.env["account.move"].union(*moves_by_comm.values())
        # The batch tried these before locking: said on the rows, not retried.
        errors = dict(self.env.context.get("relance_pdf_errors") or ())
        moves = moves.filtered(lambda m: m.id not in errors)
        if moves:
            errors.update(moves._relance_ensure_invoice_pdfs())
        pdfs, pdf_errors = {}, {}
        for comm_id, comm_moves in moves_by_comm.items():
            pdfs[comm_id] = comm_moves.invoice_pdf_report_id.ids
            failed = [errors[m.id] for m in comm_moves if m.id in errors]
            if failed:
                pdf_errors[comm_id] = failed[0]
        return pdfs, pdf_errors

    @api.model
    def _get_statement_pdfs(self, comms):
        """The customer statement of each communication whose step attaches
        it, rendered now (it states the account on the day it is sent), the
        chunk's customers in one report call where wkhtmltopdf allows, and
        stored with one ``create``: ``({comm_id: [attachment_id]},
        {comm_id: error})``. A failure never stops the email."""
        wanted = comms.filtered(
            lambda c: c.kind != "thanks" and c.level_id.attach_statement
        )
        if not wanted:
            return {}, {}
        partners = wanted.partner_id.commercial_partner_id
        report = self.env["report.relance_avancee.report_relance_statement"]
        contents, errors = report._render_statement_pdfs(partners)
        ordered = partners.filtered(lambda p: p.id in contents)
        # sudo: the statements are attached to the messages created with sudo
        # just after, on customers whose dunning this batch sends.
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": _("Statement - %s.pdf", partner.name),
                        "raw": contents[partner.id],
                        "mimetype": "application/pdf",
                        "res_model": "res.partner",
                        "res_id": partner.id,
                    }
                    for partner in ordered
                ]
            )
        )
        by_partner = dict(zip(ordered.ids, attachments.ids, strict=True))
        statements, statement_errors = {}, {}
        for comm in wanted:
            partner_id = comm.partner_id.commercial_partner_id.id
            if partner_id in by_partner:
                statements[comm.id] = [by_partner[partner_id]]
            elif partner_id in errors:
                statement_errors[comm.id] = errors[partner_id]
        return statements, statement_errors

    # ------------------------------------------------------------------
    # SMS, letters, tasks
    # ------------------------------------------------------------------

    @api.model
    def _send_sms(self, comms):
        """Queue the SMS in Odoo's SMS queue (sent through IAP by its cron), in
        batch: one chatter message, one ``sms.sms`` and one notification per
        communication, each created with one ``create``."""
        missing = comms.filtered(lambda c: not c.level_id.sms_template_id)
        for comm in missing:
            comm._set_state(
                "error",
                reason=_("No SMS template is set for %s.", comm.level_id.display_name),
            )
        comms -= missing
        if not comms:
            return
        numbers = comms._get_sms_numbers()
        bodies = {}
        for template, group in comms.grouped(
            lambda c: c.level_id.sms_template_id
        ).items():
            bodies.update(template._render_field("body", group.ids, compute_lang=True))
        author = self.env.user.partner_id
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        # sudo: the chatter log of each SMS on the customer's thread, as
        # mail.thread's message_post creates it; text from our templates.
        messages = (
            self.env["mail.message"]
            .sudo()
            .create(
                [
                    {
                        "model": "res.partner",
                        "res_id": comm.partner_id.id,
                        "record_name": comm.partner_id.display_name,
                        "message_type": "sms",
                        "subtype_id": subtype_id,
                        "author_id": author.id,
                        "email_from": author.email_formatted,
                        "reply_to": author.email_formatted,
                        "body": plaintext2html(bodies[comm.id] or ""),
                        "partner_ids": [
                            Command.link((comm.recipient_id or comm.partner_id).id)
                        ],
                        "message_id": generate_tracking_message_id(
                            f"{comm.partner_id.id}-res.partner"
                        ),
                    }
                    for comm in comms
                ]
            )
        )
        # sudo: sms.sms is for system users; the queue entries of the
        # messages just created, as Odoo's sms composer does.
        sms_records = (
            self.env["sms.sms"]
            .sudo()
            .create(
                [
                    {
                        "body": bodies[comm.id] or "",
                        "partner_id": (comm.recipient_id or comm.partner_id).id,
                        "number": numbers[comm.id][0],
                        "mail_message_id": message.id,
                        "state": "outgoing",
                    }
                    for comm, message in zip(comms, messages, strict=True)
                ]
            )
        )
        # sudo: the SMS notifications of the messages just created.
        self.env["mail.notification"].sudo().create(
            [
                {
                    "author_id": author.id,
                    "mail_message_id": sms.mail_message_id.id,
                    "res_partner_id": sms.partner_id.id,
                    "sms_number": sms.number,
                    "notification_type": "sms",
                    "sms_id_int": sms.id,
                    "sms_tracker_ids": [Command.create({"sms_uuid": sms.uuid})],
                    "is_read": True,
                    "notification_status": "ready",
                }
                for sms in sms_records
            ]
        )
        for comm, message in zip(comms, messages, strict=True):
            comm.write(
                {"mail_message_id": message.id, "sms_number": numbers[comm.id][0]}
            )
        comms._mark_sent()

    @api.model
    def _send_letter(self, comms):
        """Letters wait in the print queue: the rows stay to do until printed."""
        # A loop, not a comprehension: _() finds the language in this frame.
        bodies = {}
        for comm in comms:
            bodies[comm] = _(
                "Dunning letter %s queued for printing.", comm.level_id.display_name
            )
        comms._log_on_moves(bodies)

    @api.model
    def _send_formal_notice(self, comms):
        bodies = {}
        for comm in comms:
            bodies[comm] = _(
                "Formal notice %s queued for printing.", comm.level_id.display_name
            )
        comms._log_on_moves(bodies)

    @api.model
    def _send_phone(self, comms):
        self._schedule_activities(comms)

    @api.model
    def _schedule_activities(self, comms):
        """Give these steps to people as ``mail.activity`` on the customers,
        created in one batch."""
        comms = comms.filtered(lambda c: not c.activity_id)
        if not comms:
            return
        history = comms.partner_id._relance_get_recent_history_by_partner()
        model_id = self.env["ir.model"]._get_id("res.partner")
        call_type = self.env.ref("mail.mail_activity_data_call")
        task_type = self.env.ref("relance_avancee.mail_activity_type_relance")
        vals_list, users = [], []
        for comm in comms:
            level = comm.level_id
            user = comm.user_id or level._get_responsible_user(comm.partner_id)
            users.append(user)
            activity_type = level.activity_type_id or (
                call_type if comm.channel == "phone" else task_type
            )
            # The task reads in its responsible's language.
            comm_lang = comm.with_context(lang=user.lang or self.env.lang)
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": comm.partner_id.id,
                    "activity_type_id": activity_type.id,
                    "date_deadline": comm.date,
                    "summary": comm_lang._get_activity_summary(),
                    "note": comm_lang._render_activity_note(
                        history.get(comm.partner_id.commercial_partner_id.id)
                    ),
                    "user_id": user.id,
                    "relance_communication_id": comm.id,
                }
            )
        activities = self.env["mail.activity"].create(vals_list)
        for comm, activity, user in zip(comms, activities, users, strict=True):
            comm.write({"activity_id": activity.id, "user_id": user.id})
            comm.history_ids.filtered(lambda h: h.state == "todo").user_id = user

    @api.model
    def _schedule_reconcile_activities(self, company, partners):
        """Ask the accountant to reconcile these customers' payments or credit
        notes before any reminder (once per customer, while the activity is
        open)."""
        activity_type = self.env.ref(
            "relance_avancee.mail_activity_type_relance_reconcile"
        )
        open_ids = {
            activity.res_id
            for activity in self.env["mail.activity"].search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", partners.ids),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        }
        model_id = self.env["ir.model"]._get_id("res.partner")
        today = fields.Date.context_today(self)
        vals_list = []
        for partner in partners.filtered(lambda p: p.id not in open_ids):
            user = (
                partner.with_company(company).relance_collector_id
                or company.relance_default_collector_id
                or self.env.user
            )
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": activity_type.id,
                    "date_deadline": today,
                    "summary": _("Reconcile before reminding"),
                    "note": _(
                        "%(partner)s has unreconciled payments or credit notes "
                        "covering its overdue invoices: reconcile them; no reminder "
                        "is sent meanwhile.",
                        partner=partner.display_name,
                    ),
                    "user_id": user.id,
                }
            )
        if vals_list:
            self.env["mail.activity"].create(vals_list)
