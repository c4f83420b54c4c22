import logging
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import phonenumbers

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import email_normalize, format_date
from odoo.tools.misc import hash_sign, verify_hash_signed

from .relance_level import CHANNELS, TONES

_logger = logging.getLogger(__name__)

COMMUNICATION_STATES = [
    ("todo", "To do"),
    ("sent", "Sent"),
    ("error", "Error"),
    ("cancelled", "Cancelled"),
]
LETTER_CHANNELS = ("letter", "formal_notice")
# Stricter than Odoo's lenient normaliser, which accepts "jean@@x" as "@x".
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z0-9-]{2,}$")
# The scope of the signed tokens of the customer's self-service links: a
# token signed for another purpose never opens the page.
PORTAL_TOKEN_SCOPE = "relance_avancee.communication.portal"


def _is_landline(number):
    """Whether the E.164 ``number`` is a fixed line, which cannot receive an
    SMS (``False`` when unsure: a number that may be mobile or fixed)."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE


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
    late_reminded_date = fields.Date(
        string="Late print reminded on",
        readonly=True,
        copy=False,
        help="A letter left in Letters to print past the company's delay: the "
        "day its customer's collector was asked to print it (once).",
    )
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
        # Not added up in grouped lists: an invoice reminded at several steps
        # is in several communications.
        aggregator=None,
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
    registered_number = fields.Char(
        string="Registered mail number",
        copy=False,
        help="Number of the registered letter with acknowledgement of receipt "
        "that carried this formal notice (proof of sending).",
    )
    follow_up = fields.Boolean(
        string="Follow-up",
        compute="_compute_follow_up",
        help="A reminder was already sent for one of its invoices: the wording "
        "says so.",
    )
    signatory_id = fields.Many2one(
        "res.users",
        compute="_compute_signatory_id",
        help="Who signs it: the customer's collector, else the company's "
        "signatory, else its default collector.",
    )
    deadline_date = fields.Date(
        string="Deadline",
        compute="_compute_deadline_date",
        help="The date by which the customer is asked to pay.",
    )
    print_attachment_id = fields.Many2one(
        "ir.attachment",
        string="Printed document",
        readonly=True,
        ondelete="set null",
        groups="relance_avancee.group_relance_user",
        help="The PDF this letter was printed and posted in (the whole print "
        "batch it belongs to).",
    )
    print_batch_ids = fields.Many2many(
        "relance.print.batch",
        "relance_print_batch_communication_rel",
        "communication_id",
        "batch_id",
        string="Prints",
        readonly=True,
        groups="relance_avancee.group_relance_user",
    )
    can_act = fields.Boolean(
        string="May act",
        compute="_compute_can_act",
        help="The current user may send, do or cancel this communication: the "
        "dunning team, or the person a task is assigned to.",
    )

    @api.depends_context("uid")
    @api.depends("manual", "user_id")
    def _compute_can_act(self):
        if self.env.su or self.env.user.has_group("relance_avancee.group_relance_user"):
            self.can_act = True
            return
        for comm in self:
            comm.can_act = comm.manual and comm.user_id == self.env.user

    @api.depends("partner_id", "level_id", "kind", "date")
    def _compute_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for comm in self:
            step = comm.level_id.name or kinds.get(comm.kind) or ""
            comm.name = f"{comm.partner_id.name or ''} – {step} – {comm.date or ''}"

    @api.depends_context("lang")
    @api.depends("partner_id", "level_id", "kind", "date")
    def _compute_display_name(self):
        # ``name`` is stored in the language of whoever made the step (for
        # searching); screens show the step in the reader's language.
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for comm in self:
            step = comm.level_id.name or kinds.get(comm.kind) or ""
            comm.display_name = " – ".join(
                part
                for part in (
                    comm.partner_id.name,
                    step,
                    comm.date and format_date(self.env, comm.date),
                )
                if part
            )

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

    def _compute_follow_up(self):
        # One query for every communication rendered together (a chunk).
        moves = self.history_ids.move_id
        first_sent = {}
        if moves:
            for move, first_date in self.env["relance.history"]._read_group(
                [
                    ("move_id", "in", moves.ids),
                    ("kind", "=", "reminder"),
                    ("state", "=", "sent"),
                    ("communication_id", "not in", self.ids),
                ],
                ["move_id"],
                ["date:min"],
            ):
                first_sent[move.id] = first_date
        for comm in self:
            comm.follow_up = comm.kind == "reminder" and any(
                first_sent.get(move.id) and first_sent[move.id] <= comm.date
                for move in comm.history_ids.move_id
            )

    @api.depends("partner_id", "company_id")
    def _compute_signatory_id(self):
        for comm in self:
            company = comm.company_id
            collector = comm.partner_id.commercial_partner_id.with_company(
                company
            ).relance_collector_id
            comm.signatory_id = (
                collector
                or company.relance_signatory_id
                or company.relance_default_collector_id
            )

    @api.depends("date", "sent_date", "channel", "company_id")
    def _compute_deadline_date(self):
        for comm in self:
            company = comm.company_id
            days = (
                company.relance_formal_notice_days
                if comm.channel == "formal_notice"
                else company.relance_payment_days
            )
            start = (
                fields.Date.context_today(comm, comm.sent_date)
                if comm.sent_date
                else comm.date
            )
            comm.deadline_date = start and start + timedelta(days=days or 0)

    def write(self, vals):
        res = super().write(vals)
        if vals.get("registered_number"):
            # The proof of sending of a formal notice, in the customer's chatter.
            # A loop, not a comprehension: _() finds the language in this frame.
            bodies = {}
            for comm in self:
                bodies[comm.partner_id.id] = _(
                    "%(step)s of %(date)s sent by registered letter no. %(number)s.",
                    step=comm.level_id.name or comm.display_name,
                    date=format_date(self.env, comm.sent_date or comm.date),
                    number=comm.registered_number,
                )
            self.partner_id._message_log_batch(bodies=bodies)
        return res

    # ------------------------------------------------------------------
    # Helpers for templates and reports
    # ------------------------------------------------------------------

    def _get_bank_details(self):
        """Our bank account for the transfer, as one line of text: ``IBAN …,
        BIC … (bank)``; empty when the company has none."""
        self.ensure_one()
        return self.company_id._relance_get_bank_details()

    def _get_signature_lines(self):
        """The signature of the message, in the rendering's language: the
        signatory's name and job position, the company, their phone and
        email (the company's when they have none)."""
        self.ensure_one()
        return self.company_id._relance_get_signature_lines(self.signatory_id)

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

    def _get_portal_url(self, move):
        """The link to ``move`` on the customer portal, where the customer can
        view, download and pay it (its access token is made before the batch
        renders the emails)."""
        self.ensure_one()
        return move.get_base_url() + move.get_portal_url()

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
        todo = self._relance_as_actor().filtered(lambda c: c.state == "todo")
        if not todo:
            raise UserError(_("Only communications still to do can be sent."))
        todo._check_lines_still_due()
        self.env["relance.dispatcher"]._dispatch(
            todo.filtered(lambda c: c.state == "todo"), from_person=True
        )
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
        self.env["relance.dispatcher"]._dispatch(
            failed.filtered(lambda c: c.state == "todo"), from_person=True
        )
        return True

    def action_cancel(self):
        """Cancel communications that were not sent."""
        comms = self._relance_as_actor()
        if any(comm.state == "sent" for comm in self):
            raise UserError(_("A sent communication cannot be cancelled."))
        comms._set_state("cancelled", reason=_("Cancelled by %s.", self.env.user.name))
        comms.activity_id.unlink()
        return True

    def action_open_print_wizard(self):
        """Open the print wizard on these letters, or, with none selected, on
        the letters and formal notices of the current company still to print."""
        # Called through RPC with any ids: refuse letters the user may not
        # read (another company's) rather than open the wizard on them.
        self.check_access("read")
        letters = self or self._get_letters_to_print()
        if not letters:
            raise UserError(_("No letter or formal notice is waiting to be printed."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Print letters"),
            "res_model": "relance.print.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_communication_ids": [Command.set(letters.ids)],
            },
        }

    def action_print(self):
        """Print letters and formal notices in one PDF, and record them as sent
        at once (for API callers; the screens go through the print wizard,
        which waits for the user's confirmation).

        A letter counts as sent only once its document exists. Letters paid or
        disputed since the batch are cancelled and left out.
        """
        batch = self.env["relance.print.batch"]._print_communications(self)
        batch.action_confirm()
        return batch.action_download()

    @api.model
    def _get_letters_to_print(self, company=None, day=None):
        """The letters and formal notices of ``company`` (the current one by
        default) still to print up to ``day`` (today by default)."""
        company = company or self.env.company
        day = day or fields.Date.context_today(self)
        return self.search(
            [
                ("company_id", "=", company.id),
                ("channel", "in", LETTER_CHANNELS),
                ("state", "=", "todo"),
                ("date", "<=", day),
            ]
        )

    def action_mark_done(self):
        """Record a task (phone call, manual step) as done."""
        comms = self._relance_as_actor()
        comms.filtered(lambda c: c.state == "todo")._mark_sent(by_person=True)
        return True

    def _relance_remind_late_letters(self, today):
        """Ask each customer's collector to print its late letters: one *Late
        dunning task* activity per customer (not twice while one is open),
        then the letters are marked reminded."""
        for (company, partner), letters in self.grouped(
            lambda c: (c.company_id, c.partner_id)
        ).items():
            user = partner._relance_get_responsible_user(company)
            env_lang = partner.with_context(lang=user.lang or self.env.lang).env
            oldest = min(letters.mapped("date"))
            note = env_lang._(
                "%(count)s letter(s) to %(partner)s have waited in Letters to "
                "print since %(date)s (%(days)s days). The customer's scenario "
                "waits for them: print them, or cancel them.",
                count=len(letters),
                partner=partner.display_name,
                date=format_date(env_lang, oldest),
                days=(today - oldest).days,
            )
            partner._relance_schedule_activity(
                company,
                "relance_avancee.mail_activity_type_relance_late_task",
                env_lang._("Letters to print: %s", partner.display_name),
                note,
                user=user,
            )
        self.write({"late_reminded_date": today})

    def _relance_as_actor(self):
        """These communications, ready to be marked done or cancelled by the
        current user: a Dunning user acts on any of them; anybody else only on
        the tasks assigned to them (a key account's call for its salesperson).
        States change only through the actions: users outside the Dunning
        groups have no write access to communications and history rows."""
        if self.env.su or self.env.user.has_group("relance_avancee.group_relance_user"):
            return self
        others = self.filtered(lambda c: not c.manual or c.user_id != self.env.user)
        if others:
            raise AccessError(
                _(
                    "Only the dunning team may change %(steps)s: it is not a task "
                    "assigned to you.",
                    steps=", ".join(others.mapped("display_name")),
                )
            )
        # sudo: checked above, the user is the task's responsible; the history
        # rows and the activity are written as the user's own task.
        return self.sudo()

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

    def _relance_check_printable(self):
        """Refuse to print communications that are not letters or formal
        notices, letters cancelled or in error, or letters of several
        companies; return the letters."""
        if not self:
            raise UserError(_("Select letters or formal notices to print."))
        others = self.filtered(lambda c: c.channel not in LETTER_CHANNELS)
        if others:
            raise UserError(
                _(
                    "Only letters and formal notices can be printed; these "
                    "communications are not: %(names)s",
                    names=", ".join(others.mapped("display_name")),
                )
            )
        broken = self.filtered(lambda c: c.state in ("cancelled", "error"))
        if broken:
            raise UserError(
                _(
                    "Letters cancelled or in error cannot be printed: fix or "
                    "leave out %(names)s.",
                    names=", ".join(broken.mapped("display_name")),
                )
            )
        if len(self.company_id) > 1:
            raise UserError(_("Print the letters of one company at a time."))
        return self

    def _relance_check_postal_addresses(self):
        """Refuse the letters whose recipient has no complete postal address
        (or is archived), naming all their customers in one message."""
        errors = [
            error for error in (comm._get_recipient_error() for comm in self) if error
        ]
        if errors:
            raise UserError(
                _(
                    "These letters cannot be printed: complete the customers' "
                    "postal addresses (street, zip code, city, country) and "
                    "print again.\n%(errors)s",
                    errors="\n".join(f"- {error}" for error in errors),
                )
            )

    def _get_recipient_error(self, sms_numbers=None):
        """Why this communication cannot reach its recipient, or ``False``.

        :param sms_numbers: ``{communication_id: (number, reason)}`` read for a
            whole batch by :meth:`_get_sms_numbers`; read here when not given
        """
        self.ensure_one()
        recipient = self.recipient_id or self.partner_id
        if not self.partner_id.active:
            return _(
                "The customer %s is archived: restore it or exclude it from dunning.",
                self.partner_id.display_name,
            )
        lang = self.partner_id.lang
        if (
            self.channel != "phone"
            and lang
            and lang != "en_US"
            and not self.env["res.lang"]._get_data(code=lang)
        ):
            # Its message would be written in that language: Odoo cannot.
            return _(
                "The language %(lang)s of %(partner)s is not installed: install "
                "it or change the customer's language.",
                lang=lang,
                partner=self.partner_id.display_name,
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
            if sms_numbers is None or self.id not in sms_numbers:
                sms_numbers = self._get_sms_numbers()
            _number, reason = sms_numbers[self.id]
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
                # A street of blanks is no street.
                if not (
                    recipient[fname].strip()
                    if isinstance(recipient[fname], str)
                    else recipient[fname]
                )
            ]
            if missing:
                return _(
                    "The postal address of %(partner)s is incomplete: %(missing)s "
                    "missing.",
                    partner=recipient.display_name,
                    missing=", ".join(missing),
                )
        return False

    def _get_sms_numbers(self):
        """The SMS number of each communication's recipient, in E.164, or why
        there is none: ``{communication_id: (number, reason)}``, with one
        blacklist search for all of them."""
        result = {}
        for comm in self:
            recipient = comm.recipient_id or comm.partner_id
            raw = recipient.mobile or recipient.phone
            if not raw:
                result[comm.id] = (
                    False,
                    _("%s has no mobile or phone number.", recipient.display_name),
                )
                continue
            country = recipient.country_id or comm.company_id.country_id
            try:
                number = recipient._phone_format_number(
                    raw, country=country, force_format="E164", raise_exception=True
                )
            except UserError as error:
                result[comm.id] = (
                    False,
                    _(
                        "The phone number %(number)s of %(partner)s is invalid: "
                        "%(error)s",
                        number=raw,
                        partner=recipient.display_name,
                        error=error.args[0],
                    ),
                )
                continue
            if _is_landline(number):
                result[comm.id] = (
                    False,
                    _(
                        "The number %(number)s of %(partner)s is a landline: an "
                        "SMS needs a mobile number.",
                        number=raw,
                        partner=recipient.display_name,
                    ),
                )
                continue
            result[comm.id] = (number, False)
        numbers = [number for number, _reason in result.values() if number]
        # sudo: the SMS blacklist is readable by system users only; only
        # whether these numbers are blacklisted is read, as Odoo's sms does.
        blacklisted = (
            set(
                self.env["phone.blacklist"]
                .sudo()
                .search([("number", "in", numbers), ("active", "=", True)])
                .mapped("number")
            )
            if numbers
            else set()
        )
        for comm in self:
            number = result[comm.id][0]
            if number in blacklisted:
                result[comm.id] = (
                    False,
                    _(
                        "The phone number %(number)s of %(partner)s is blacklisted.",
                        number=number,
                        partner=(comm.recipient_id or comm.partner_id).display_name,
                    ),
                )
        return result

    def _get_mail_template(self):
        self.ensure_one()
        if self.kind == "thanks":
            return self.profile_id.thank_you_template_id
        return self.level_id.mail_template_id

    def _get_activity_summary(self):
        """The task's summary (in the current language: its responsible's)."""
        self.ensure_one()
        return _(
            "%(step)s: %(partner)s",
            step=self.level_id.name,
            partner=self.partner_id.name,
        )

    def _render_activity_note(self, history=None):
        """The task's note: the invoices, the balance and the recent history."""
        self.ensure_one()
        if history is None:
            history = self.partner_id._relance_get_recent_history()
        return self.env["ir.qweb"]._render(
            "relance_avancee.relance_activity_note",
            {"comm": self, "history": history},
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
        a person today.

        What the batch sends is in the customer's chatter (the email or SMS
        itself) and in each invoice's dunning history; what a person does (a
        letter printed, a call made, a reminder sent by hand) is also noted in
        the invoices' chatter, where nothing else would show it.
        """
        if not self:
            return
        now = fields.Datetime.now()
        if by_person is None:
            by_person = self.env.context.get("relance_by_person", False)
        today = fields.Date.context_today(self)
        rows = self.history_ids.filtered(lambda h: h.state in ("todo", "error"))
        for done_date, group in rows.grouped(
            lambda h: today if by_person else h.communication_id.date
        ).items():
            group.write(
                {
                    "state": "sent",
                    "sent_date": now,
                    "done_date": done_date,
                    "reason": False,
                }
            )
        self.write({"state": "sent", "sent_date": now, "error_reason": False})
        self._invoice_late_fees()
        for comm in self.filtered("activity_id"):
            # sudo: the step was made by someone allowed to (the dunning team,
            # which writes communications, or the task's own responsible, see
            # _relance_as_actor); its activity may be assigned to a colleague
            # and sit on a customer they cannot write, yet it is this step's.
            comm.activity_id.sudo().with_context(
                relance_skip_activity_hook=True
            ).action_feedback(feedback=_("Done from the dunning communication."))
        if not by_person:
            return
        bodies = {}
        for comm in self:
            channel = (
                comm.level_id._get_channel_label() if comm.level_id else _("Email")
            )
            recipient = (comm.recipient_id or comm.partner_id).display_name
            if comm.channel == "phone":
                # A call is made, not sent.
                bodies[comm] = _(
                    "%(step)s done: call to %(recipient)s.",
                    step=comm.level_id.name,
                    recipient=recipient,
                )
                continue
            bodies[comm] = _(
                "%(step)s sent by %(channel)s to %(recipient)s.",
                step=comm.level_id.name or _("Thank-you message"),
                channel=channel,
                recipient=recipient,
            )
        self._log_on_moves(bodies)

    def _invoice_late_fees(self):
        """A formal notice sent invoices the legal late fees of its invoices
        when the customer's profile says so (once per invoice: an invoice
        whose fees were invoiced is skipped). A failure (nothing left to
        invoice, no income account) never undoes the sending: it is noted in
        the customer's chatter."""
        comms = self.filtered(
            lambda c: (
                c.channel == "formal_notice"
                and c.level_id
                and c.partner_id._relance_should_invoice_fees(c.level_id)
            )
        )
        for comm in comms:
            today = fields.Date.context_today(comm)
            try:
                with self.env.cr.savepoint():
                    comm.history_ids.move_id._relance_invoice_late_fees(today)
            except UserError as error:
                comm.partner_id._message_log(
                    body=_(
                        "Late fees not invoiced with %(step)s: %(reason)s",
                        step=comm.level_id.name,
                        reason=error.args[0],
                    )
                )

    def _set_state(self, state, reason=False, from_states=("todo", "error")):
        if not self:
            return
        self.history_ids.filtered(lambda h: h.state in from_states).write(
            {"state": state, "reason": reason}
        )
        self.write({"state": state, "error_reason": reason})
        if state == "error":
            _logger.info("Dunning communications %s in error: %s", self.ids, reason)

    def _log_on_moves(self, bodies):
        """Log a note on each invoice these communications list, in one batch.

        :param bodies: ``{communication: body}``; an invoice listed by several
            communications gets their notes in one message.
        """
        by_move = defaultdict(list)
        for comm, body in bodies.items():
            for move in comm.history_ids.move_id:
                by_move[move.id].append(body)
        if by_move:
            self.env["account.move"].browse(list(by_move))._message_log_batch(
                bodies={move_id: " ".join(texts) for move_id, texts in by_move.items()}
            )

    @api.model
    def _on_delivery_failure(self, messages, reason, channel="email", bounce=False):
        """The mail or SMS queue could not deliver ``messages`` (or, with
        ``bounce``, a bounce came back for them): their communications go to
        error, to be fixed and sent again once; the person in charge of the
        customer gets an activity to fix the address or the mobile number."""
        # sudo: called by the mail and SMS queues (as whoever runs them) for
        # the messages they failed to deliver; only their communications are
        # found and put in error.
        comms = self.sudo().search(
            [
                ("mail_message_id", "in", messages.ids),
                ("state", "=", "sent"),
                ("channel", "=", channel)
                if channel == "sms"
                else ("channel", "!=", "sms"),
            ]
        )
        if channel == "sms":
            message = _("The SMS provider refused the SMS: %s", reason or "")
        elif bounce:
            message = _("The email bounced: %s", reason or "")
        else:
            message = _("The mail server refused the email: %s", reason or "")
        comms._set_state("error", reason=message, from_states=("sent",))
        if comms:
            self.env["res.partner"]._relance_on_bounce(comms, message, channel=channel)

    # ------------------------------------------------------------------
    # Customer self-service link (portal)
    # ------------------------------------------------------------------

    def _get_portal_token(self):
        """A signed token opening this communication's self-service page,
        valid until the end of the company's number of days from today (the
        email carrying it is rendered when it is sent). Nothing is stored: the
        signature (HMAC with the database secret) proves the server made it.

        The expiry is a day, not an instant: the same communication rendered
        twice the same day (batch and single rendering, a preview) carries the
        same link."""
        self.ensure_one()
        days = self.company_id.relance_portal_link_days or 1
        expiration = datetime.combine(
            date.today() + timedelta(days=days), time(23, 59, 59)
        )
        # sudo: the database secret is only readable by the superuser; the
        # token itself reveals nothing but the communication's id.
        return hash_sign(
            self.sudo().env,
            PORTAL_TOKEN_SCOPE,
            {"communication": self.id},
            expiration=expiration,
        )

    def _get_portal_link(self):
        """The address of this communication's self-service page, where the
        customer, without an account, sees the invoices it claims, downloads
        and pays them, promises a payment date or contests one of them."""
        self.ensure_one()
        return (
            f"{self.get_base_url()}/relance/reminder/{self.id}/"
            f"{self._get_portal_token()}"
        )

    @api.model
    def _get_by_portal_token(self, communication_id, token):
        """The communication a self-service link opens, in sudo, or an empty
        recordset when the token is malformed, tampered with, expired or made
        for another communication.

        Sudo is safe here: the caller is the public user, and the record
        returned is the one the token's valid signature names, nothing else.
        """
        # sudo: see above (the token's signature is checked just below).
        Communication = self.sudo()
        try:
            payload = verify_hash_signed(
                Communication.env, PORTAL_TOKEN_SCOPE, token or ""
            )
        except (ValueError, TypeError):
            # Not base64, an unknown version, not JSON: a mangled link.
            payload = None
        if not isinstance(payload, dict) or payload.get("communication") != (
            communication_id
        ):
            return Communication
        return Communication.browse(communication_id).exists()
