"""The customer's self-service page, opened from the link of a reminder email.

No account is needed: the link carries a signed token naming one
communication, valid for the company's number of days. The page lists only
that communication's invoices; from it the customer downloads or pays them,
promises a payment date or contests one of them. Every action is noted in the
customer's chatter.
"""

import secrets
from datetime import timedelta

from odoo import fields, http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import float_compare, format_amount, format_date, plaintext2html

# Session key of the one-time numbers of the forms shown: a form is
# processed once, a replayed submission finds its number gone.
NONCES_KEY = "relance_portal_nonces"
MAX_NONCES = 20
OPEN_PAYMENT_STATES = ("not_paid", "partial", "in_payment")


class RelancePortal(http.Controller):
    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    @http.route(
        "/relance/reminder/<int:communication_id>/<string:token>",
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
    )
    def relance_portal_page(self, communication_id, token, done=None, **kwargs):
        comm = self._get_communication(communication_id, token)
        if not comm:
            return self._render_invalid()
        message = {
            "promise": request.env._("Thank you: your promise to pay is recorded."),
            "dispute": request.env._(
                "Thank you: your message is recorded. We will look into it and "
                "get back to you; meanwhile we send no reminder for this invoice."
            ),
        }.get(done)
        return self._render_page(comm, token, success=message)

    @http.route(
        "/relance/reminder/<int:communication_id>/<string:token>/promise",
        type="http",
        auth="public",
        methods=["POST"],
        # Checked below, to answer a stale form with the page saying the link
        # is no longer valid rather than with Odoo's bare error.
        csrf=False,
        sitemap=False,
    )
    def relance_portal_promise(self, communication_id, token, **post):
        comm = self._get_communication(communication_id, token)
        if not comm or not self._consume_nonce(post):
            return self._render_invalid()
        try:
            promise = self._create_promise(comm, post)
        except UserError as error:
            return self._render_page(comm, token, error=error.args[0], values=post)
        self._log_on_customer(
            comm,
            request.env._(
                "%(contact)s promised to pay %(amount)s by %(date)s for %(invoices)s "
                "from the link of the reminder of %(reminder_date)s.",
                contact=self._get_contact(comm).display_name,
                amount=format_amount(request.env, promise.amount, promise.currency_id),
                date=format_date(request.env, promise.date),
                invoices=", ".join(promise.move_ids.mapped("name")),
                reminder_date=format_date(request.env, comm.date),
            ),
        )
        return request.redirect(self._page_path(comm, token, done="promise"))

    @http.route(
        "/relance/reminder/<int:communication_id>/<string:token>/dispute",
        type="http",
        auth="public",
        methods=["POST"],
        # Checked below, like the promise's form.
        csrf=False,
        sitemap=False,
    )
    def relance_portal_dispute(self, communication_id, token, **post):
        comm = self._get_communication(communication_id, token)
        if not comm or not self._consume_nonce(post):
            return self._render_invalid()
        try:
            move_id = int(post.get("move_id") or 0)
        except ValueError:
            move_id = 0
        move = comm._get_lines().move_id.filtered(lambda m: m.id == move_id)
        if move_id and not move:
            # An invoice this communication does not claim: a forged form.
            return self._render_invalid()
        try:
            dispute = self._create_dispute(comm, move, post)
        except UserError as error:
            return self._render_page(comm, token, error=error.args[0], values=post)
        self._log_on_customer(
            comm,
            request.env._(
                "%(contact)s contested invoice %(invoice)s from the link of the "
                "reminder of %(reminder_date)s (%(reason)s): %(message)s",
                contact=self._get_contact(comm).display_name,
                invoice=dispute.move_id.name,
                reminder_date=format_date(request.env, comm.date),
                reason=self._get_reasons()[dispute.reason],
                message=post.get("message", "").strip(),
            ),
        )
        return request.redirect(self._page_path(comm, token, done="dispute"))

    # ------------------------------------------------------------------
    # Token, language and one-time form numbers
    # ------------------------------------------------------------------

    def _get_communication(self, communication_id, token):
        """The communication the link opens, in sudo and in its customer's
        language, or an empty recordset (wrong, tampered, expired token)."""
        comm = request.env["relance.communication"]._get_by_portal_token(
            communication_id, token
        )
        if not comm:
            return comm
        # From here on, sudo (given by the token check) reads only this
        # communication's customer, company and invoices.
        lang = comm.partner_id.lang or comm.recipient_id.lang
        if lang and lang in dict(request.env["res.lang"].get_installed()):
            request.update_context(lang=lang)
        return comm.with_context(lang=request.env.lang).with_company(comm.company_id)

    def _new_nonce(self):
        nonce = secrets.token_urlsafe(16)
        nonces = list(request.session.get(NONCES_KEY) or [])[-(MAX_NONCES - 1) :]
        request.session[NONCES_KEY] = [*nonces, nonce]
        return nonce

    def _consume_nonce(self, post):
        """A form may be processed once, from the session that showed it:
        its one-time number and Odoo's CSRF token must both match."""
        nonce = post.get("nonce")
        nonces = list(request.session.get(NONCES_KEY) or [])
        if not nonce or nonce not in nonces:
            return False
        if not request.validate_csrf(post.get("csrf_token")):
            return False
        nonces.remove(nonce)
        request.session[NONCES_KEY] = nonces
        return True

    def _page_path(self, comm, token, done=None):
        path = f"/relance/reminder/{comm.id}/{token}"
        return f"{path}?done={done}" if done else path

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def _get_open_moves(self, comm):
        """The communication's invoices still to pay and not contested."""
        return comm._get_lines().move_id.filtered(
            lambda m: (
                m.state == "posted"
                and m.payment_state in OPEN_PAYMENT_STATES
                and not m.relance_in_dispute
                and m.amount_residual > 0
            )
        )

    def _get_contact(self, comm):
        return comm.recipient_id or comm.partner_id

    def _get_owner(self, comm):
        """Who follows up what the customer does: its collector, else the
        company's default collector, else whoever signed the reminder."""
        company = comm.company_id
        return (
            comm.partner_id.commercial_partner_id.with_company(
                company
            ).relance_collector_id
            or company.relance_default_collector_id
            or comm.signatory_id
            or comm.user_id
            or request.env.ref("base.user_admin")
        )

    def _create_promise(self, comm, post):
        """A promise of origin ``portal`` for the open invoices listed, for
        their residual amount or the amount entered, within the company's
        limits (nothing is created beyond them).

        :raise UserError: with a sentence the customer can read
        """
        env = request.env
        try:
            day = fields.Date.to_date(post.get("date") or None)
        except ValueError:
            day = None
        if not day:
            raise UserError(env._("Please enter the date you will pay on."))
        moves = self._get_open_moves(comm)
        if not moves:
            raise UserError(env._("Nothing is left to pay on these invoices."))
        company = comm.company_id
        due = sum(moves.mapped("amount_residual_signed"))
        raw = (post.get("amount") or "").strip().replace(" ", "").replace(",", ".")
        try:
            amount = float(raw) if raw else due
        except ValueError as error:
            raise UserError(env._("Please enter the amount as a number.")) from error
        currency = company.currency_id
        if float_compare(amount, 0.0, precision_rounding=currency.rounding) <= 0:
            raise UserError(env._("Please enter a positive amount."))
        if float_compare(amount, due, precision_rounding=currency.rounding) > 0:
            raise UserError(
                env._(
                    "The promised amount cannot be more than what is due: %s.",
                    format_amount(env, due, currency),
                )
            )
        # Sudo, after the token check: the public user creates a promise for
        # this communication's customer and invoices only.
        with env.cr.savepoint():
            promise = (
                env["relance.promise"]
                .sudo()
                .with_context(lang=env.lang)
                .create(
                    {
                        "company_id": company.id,
                        "partner_id": comm.partner_id.id,
                        "move_ids": moves.ids,
                        "date": day,
                        "amount": currency.round(amount),
                        "origin": "portal",
                        "user_id": self._get_owner(comm).id,
                        "contact_id": self._get_contact(comm).id,
                    }
                )
            )
            # Raises beyond the company's limits: the savepoint then drops
            # the promise.
            promise._check_customer_limits()
        return promise

    def _create_dispute(self, comm, move, post):
        """A dispute on one of the communication's invoices, with the reason
        and the customer's message, and an activity for its owner.

        :raise UserError: with a sentence the customer can read
        """
        env = request.env
        if not move:
            raise UserError(env._("Please choose the invoice you contest."))
        reason = post.get("reason")
        if reason not in self._get_reasons():
            raise UserError(env._("Please choose why you contest the invoice."))
        message = (post.get("message") or "").strip()
        if not message:
            raise UserError(env._("Please tell us what is wrong with the invoice."))
        if move.relance_in_dispute:
            raise UserError(
                env._(
                    "Invoice %s is already contested: we are looking into it.",
                    move.name,
                )
            )
        if move.payment_state not in OPEN_PAYMENT_STATES:
            raise UserError(env._("Invoice %s is paid.", move.name))
        owner = self._get_owner(comm)
        # Sudo, after the token check: the public user creates the dispute
        # and its owner's activity on this communication's invoice only.
        # The owner reads the activity in their own language.
        owner_env = env(
            context=dict(
                env.context,
                lang=owner.lang or env.lang,
                relance_dispute_opened_by=(comm.recipient_id or comm.partner_id).name,
            ),
            su=True,
        )
        with env.cr.savepoint():
            dispute = owner_env["relance.dispute"].create(
                {
                    "move_id": move.id,
                    "reason": reason,
                    "owner_id": owner.id,
                    # Escaped: the customer's text is never read as HTML.
                    "note": plaintext2html(message),
                }
            )
            dispute.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(dispute) + timedelta(days=1),
                summary=owner_env._(
                    "%(customer)s contests %(invoice)s",
                    customer=comm.partner_id.display_name,
                    invoice=move.name,
                ),
                note=plaintext2html(message),
                user_id=owner.id,
            )
        return dispute.with_env(comm.env)

    def _log_on_customer(self, comm, body):
        """A note in the customer's chatter, by the contact who acted (the
        text is escaped: it may hold what the customer typed). ``comm`` is
        in sudo since the token check: the note goes on its customer only."""
        comm.partner_id.commercial_partner_id.message_post(
            body=body,
            author_id=self._get_contact(comm).id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------

    def _payment_enabled(self, company):
        """An online payment provider is open to customers of ``company``
        (the ``payment`` addon is optional: without it, no "Pay now")."""
        if "payment.provider" not in request.env:
            return False
        # Sudo: which providers exist is not secret and the public user may
        # not read them; only a count leaves this method.
        return bool(
            request.env["payment.provider"]
            .sudo()
            .search_count(
                [
                    *request.env["payment.provider"]._check_company_domain(company),
                    ("state", "in", ("enabled", "test")),
                    ("is_published", "=", True),
                ],
                limit=1,
            )
        )

    def _prepare_page_values(self, comm):
        lines = comm._get_lines()
        moves = lines.move_id
        # The invoices' own portal links (PDF, payment) need their tokens.
        moves._relance_ensure_portal_tokens()
        open_moves = self._get_open_moves(comm)
        payment = self._payment_enabled(comm.company_id)
        company = comm.company_id
        today = fields.Date.context_today(comm)
        rows = []
        for line in lines:
            move = line.move_id
            rows.append(
                {
                    "move": move,
                    "due_date": line.due_date,
                    "is_open": move in open_moves,
                    "in_dispute": move.relance_in_dispute,
                    "paid": move.payment_state not in OPEN_PAYMENT_STATES
                    or move.amount_residual <= 0,
                    "pdf_url": move.get_portal_url(report_type="pdf", download=True),
                    "pay_url": payment
                    and move in open_moves
                    and move.get_portal_url(
                        anchor="portal_pay", query_string="&payment=True"
                    ),
                }
            )
        # Sudo, after the token check: this customer's open promise, if any.
        open_promise = (
            request.env["relance.promise"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", comm.partner_id.commercial_partner_id.id),
                    ("company_id", "=", company.id),
                    ("state", "=", "open"),
                ],
                limit=1,
            )
        )
        max_date = today + timedelta(days=company.relance_promise_max_days)
        env = request.env
        customer = comm.partner_id.commercial_partner_id
        return {
            # Whole sentences, for their translations.
            "intro": env._(
                "%(customer)s, here are the invoices of our reminder of %(date)s. "
                "Download them, pay them, tell us when you will pay or what is "
                "wrong with one of them.",
                customer=customer.name,
                date=format_date(env, comm.date),
            ),
            "open_promise_text": open_promise
            and env._(
                "Your promise to pay %(amount)s by %(date)s is recorded: thank you.",
                amount=format_amount(
                    env, open_promise.amount, open_promise.currency_id
                ),
                date=format_date(env, open_promise.date),
            ),
            "max_date_text": env._("At the latest on %s.", format_date(env, max_date)),
            "comm": comm,
            "company": company,
            "res_company": company,
            "customer": customer,
            "rows": rows,
            "open_moves": open_moves,
            "due": sum(open_moves.mapped("amount_residual_signed")),
            "currency": company.currency_id,
            "open_promise": open_promise,
            "today": today,
            "min_date": fields.Date.to_string(today),
            "max_date": fields.Date.to_string(max_date),
            "default_date": fields.Date.to_string(
                min(today + timedelta(days=7), max_date)
            ),
            "reasons": list(self._get_reasons().items()),
        }

    def _get_reasons(self):
        """The reasons of a dispute, ``{code: label}`` in the page's language."""
        Dispute = request.env["relance.dispute"]
        return dict(Dispute._fields["reason"]._description_selection(Dispute.env))

    def _render_page(self, comm, token, success=None, error=None, values=None):
        page = self._prepare_page_values(comm)
        page.update(
            {
                "token": token,
                "action_path": self._page_path(comm, token),
                "nonce": self._new_nonce(),
                "success": success,
                "error": error,
                "values": values or {},
            }
        )
        return request.render("relance_avancee.relance_portal_page", page)

    def _render_invalid(self):
        """The only answer to a wrong, tampered, expired or replayed link:
        a page saying so, with no data."""
        return request.render("relance_avancee.relance_portal_invalid", {}, status=403)
