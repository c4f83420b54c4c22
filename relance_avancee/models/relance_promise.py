from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

# Open promises whose date passed, checked per call of the nightly cron.
PROMISE_CHECK_BATCH = 500

PROMISE_ORIGINS = [
    ("manual", "Entered by a person"),
    ("call", "Phone call"),
    ("portal", "Customer portal"),
]


class RelancePromise(models.Model):
    """A customer's promise to pay an amount by a date, for all its overdue
    invoices or for some of them. Reminders for what it covers pause until the
    promised date; the promise is then kept (payments reconciled by the date
    cover it) or broken (the scenario resumes at once)."""

    _name = "relance.promise"
    _description = "Promise to pay"
    _inherit = ["mail.thread", "mail.activity.mixin", "relance.customer.log.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        ondelete="cascade",
        check_company=True,
        domain="[('is_company', '=', True)]",
    )
    move_ids = fields.Many2many(
        "account.move",
        "relance_promise_account_move_rel",
        "promise_id",
        "move_id",
        string="Invoices",
        check_company=True,
        help="The invoices the promise covers; none: all the customer's overdue "
        "invoices.",
        domain="[('commercial_partner_id', '=', partner_id), "
        "('move_type', 'in', ('out_invoice', 'out_receipt')), "
        "('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    date = fields.Date(
        string="Promised date",
        required=True,
        tracking=True,
        index=True,
        help="The customer pays by this date: the reminders of what the promise "
        "covers pause until then.",
    )
    amount = fields.Monetary(
        string="Promised amount",
        required=True,
        tracking=True,
        currency_field="currency_id",
    )
    currency_id = fields.Many2one(
        related="company_id.currency_id", string="Currency", store=True
    )
    state = fields.Selection(
        [
            ("open", "Open"),
            ("kept", "Kept"),
            ("broken", "Broken"),
            ("cancelled", "Cancelled"),
        ],
        default="open",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    origin = fields.Selection(
        PROMISE_ORIGINS, default="manual", required=True, readonly=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        help="Who follows the promise up: they get an activity if it is broken.",
    )
    contact_id = fields.Many2one(
        "res.partner",
        string="Promised by",
        help="The customer's contact who made the promise.",
    )
    note = fields.Text()
    date_closed = fields.Date(string="Closed on", readonly=True, copy=False)
    date_made = fields.Date(
        string="Made on",
        required=True,
        readonly=True,
        copy=False,
        default=fields.Date.context_today,
        help="Payments reconciled from this day to the promised date count "
        "towards the promise.",
    )
    amount_paid = fields.Monetary(
        string="Amount kept",
        readonly=True,
        copy=False,
        currency_field="currency_id",
        help="What payments reconciled on the covered invoices from the day of "
        "the promise to the promised date paid. A promise partly kept closes as "
        "broken with this amount: the rest is chased.",
    )

    _sql_constraints = [
        (
            "amount_positive",
            "CHECK(amount > 0)",
            "The promised amount must be positive.",
        ),
    ]

    @api.depends("partner_id", "date")
    def _compute_name(self):
        for promise in self:
            promise.name = _(
                "%(customer)s – promise for %(date)s",
                customer=promise.partner_id.display_name or "",
                date=promise.date and fields.Date.to_string(promise.date) or "",
            )

    @api.constrains("move_ids", "partner_id")
    def _check_moves_of_partner(self):
        # sudo: a collector without accounting rights records promises; only
        # the covered invoices' customer and type are read.
        for promise in self.sudo():
            others = promise.move_ids.filtered(
                lambda m, p=promise: (
                    m.commercial_partner_id != p.partner_id.commercial_partner_id
                    or m.move_type not in ("out_invoice", "out_receipt")
                )
            )
            if others:
                raise ValidationError(
                    _(
                        "A promise of %(customer)s can only cover its own customer "
                        "invoices, not %(moves)s.",
                        customer=promise.partner_id.display_name,
                        moves=", ".join(others.mapped("display_name")),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        promises = super().create(vals_list)
        promises._fill_overdue_invoices()
        promises._log_on_customers(
            lambda p: _(
                "Promise to pay recorded: %(amount)s by %(date)s for %(invoices)s; "
                "their reminders pause until then.",
                amount=p.currency_id.format(p.amount),
                date=format_date(p.env, p.date),
                # sudo: the invoice numbers only, in a note on the customer.
                invoices=", ".join(p.move_ids.sudo().mapped("name")),
            )
        )
        return promises

    @api.model
    def _get_open_invoices(self, partners, companies):
        """The posted customer invoices of these commercial ``partners`` in
        ``companies`` with something left to pay, in one search."""
        # sudo: a collector records promises without accounting rights; only
        # the customers' own open invoices in the given companies are read.
        return (
            self.env["account.move"]
            .sudo()
            .search_fetch(
                [
                    ("commercial_partner_id", "in", partners.ids),
                    ("company_id", "in", companies.ids),
                    ("move_type", "in", ("out_invoice", "out_receipt")),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ],
                [
                    "commercial_partner_id",
                    "company_id",
                    "invoice_date_due",
                    "amount_residual_signed",
                ],
            )
        )

    def _fill_overdue_invoices(self):
        """A promise for the customer as a whole covers the invoices it has
        overdue when it promises (its open ones when none is overdue yet),
        stored on the promise: invoices issued later are not covered."""
        missing = self.filtered(lambda p: not p.move_ids)
        if not missing:
            return
        today = fields.Date.context_today(self)
        moves = self._get_open_invoices(missing.partner_id, missing.company_id)
        for promise in missing:
            mine = moves.filtered(
                lambda m, p=promise: (
                    m.commercial_partner_id == p.partner_id
                    and m.company_id == p.company_id
                )
            )
            overdue = mine.filtered(
                lambda m: m.invoice_date_due and m.invoice_date_due < today
            )
            if not (overdue or mine):
                raise UserError(
                    _(
                        "%(customer)s has no open invoice: there is nothing to "
                        "promise to pay.",
                        customer=promise.partner_id.display_name,
                    )
                )
            promise.move_ids = overdue or mine

    def _check_customer_limits(self):
        """The limits the company sets on promises the customer makes alone
        (portal): not in the past, at most the company's maximum delay away,
        at most one open promise per customer. A collector may go beyond them.

        :raise UserError: with a sentence the customer can read
        """
        today = fields.Date.context_today(self)
        for promise in self:
            company = promise.company_id
            if promise.date < today:
                raise UserError(_("The promised date cannot be in the past."))
            limit = today + timedelta(days=company.relance_promise_max_days)
            if promise.date > limit:
                raise UserError(
                    _(
                        "The promised date can be at most %(days)s days away "
                        "(%(date)s).",
                        days=company.relance_promise_max_days,
                        date=fields.Date.to_string(limit),
                    )
                )
            others = self.search_count(
                [
                    ("partner_id", "=", promise.partner_id.id),
                    ("company_id", "=", company.id),
                    ("state", "=", "open"),
                    ("id", "!=", promise.id),
                ]
            )
            if others:
                raise UserError(
                    _(
                        "A promise to pay is already open for your account: "
                        "please contact us to change it."
                    )
                )

    def action_cancel(self):
        for promise in self:
            if promise.state != "open":
                raise UserError(
                    _("Promise %s is not open: it cannot be cancelled.", promise.name)
                )
        self.write(
            {"state": "cancelled", "date_closed": fields.Date.context_today(self)}
        )
        self._log_on_customers(
            lambda p: _(
                "Promise to pay of %(amount)s by %(date)s cancelled: the reminders "
                "resume.",
                amount=p.currency_id.format(p.amount),
                date=format_date(p.env, p.date),
            )
        )
        return True

    # ------------------------------------------------------------------
    # Kept or broken
    # ------------------------------------------------------------------

    def _read_payments(self):
        """What pays these promises, in one query: ``{promise_id: (paid,
        residual, paid_late)}`` where ``paid`` is the amount reconciled on the
        covered invoices' receivable lines from the day of the promise to the
        promised date (``max_date`` of the partial reconciliation, the
        payment's real date), ``residual`` what the covered invoices still owe
        and ``paid_late`` whether a reconciliation came after the date (all in
        company currency)."""
        if not self:
            return {}
        for model in (
            "account.move.line",
            "account.partial.reconcile",
            "relance.promise",
        ):
            self.env[model].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH lines AS (
                    SELECT rel.promise_id, l.id, l.amount_residual
                      FROM relance_promise_account_move_rel rel
                      JOIN account_move_line l ON l.move_id = rel.move_id
                      JOIN account_account a ON a.id = l.account_id
                     WHERE rel.promise_id = ANY(%(ids)s)
                       AND a.account_type = 'asset_receivable'
                       AND l.balance > 0
                )
                SELECT p.id,
                       COALESCE((SELECT SUM(apr.amount)
                                   FROM lines
                                   JOIN account_partial_reconcile apr
                                     ON apr.debit_move_id = lines.id
                                  WHERE lines.promise_id = p.id
                                    AND apr.max_date >= p.date_made
                                    AND apr.max_date <= p.date), 0),
                       COALESCE((SELECT SUM(lines.amount_residual)
                                   FROM lines
                                  WHERE lines.promise_id = p.id), 0),
                       EXISTS(SELECT 1
                                FROM lines
                                JOIN account_partial_reconcile apr
                                  ON apr.debit_move_id = lines.id
                               WHERE lines.promise_id = p.id
                                 AND apr.max_date > p.date)
                  FROM relance_promise p
                 WHERE p.id = ANY(%(ids)s)
                """,
                ids=self.ids,
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _check_kept_or_broken(self, today):
        """Close the open promises of ``self`` that payments keep, and those
        whose date passed before ``today`` without being covered.

        - **kept**: the payments reconciled on the covered invoices from the
          day of the promise to the promised date reach the promised amount,
          or leave nothing to pay on them;
        - **broken**: the date passed and it is not kept. Whatever was paid is
          recorded (``amount_paid``: a promise partly kept), the rest is
          chased: the pause ends and the next step of the scenario is due at
          once (``account.move.relance_resume_date``); the responsible person
          gets a *Promise broken* activity, the customer's chatter a note.

        :return: ``(kept, broken)`` promises
        """
        promises = self.filtered(lambda p: p.state == "open")
        payments = promises._read_payments()
        kept = broken = self.browse()
        paid_by_promise = {}
        for promise in promises:
            paid, residual, paid_late = payments.get(promise.id, (0.0, 0.0, False))
            currency = promise.currency_id
            paid_by_promise[promise.id] = paid
            settled = (
                promise.move_ids
                and currency.compare_amounts(residual, 0.0) <= 0
                and not paid_late
            )
            if currency.compare_amounts(paid, promise.amount) >= 0 or settled:
                kept |= promise
            elif promise.date < today:
                broken |= promise
            elif currency.compare_amounts(paid, promise.amount_paid):
                promise.amount_paid = paid
        for state, closing in (("kept", kept), ("broken", broken)):
            for promise in closing:
                promise.write(
                    {
                        "state": state,
                        "date_closed": today,
                        "amount_paid": paid_by_promise[promise.id],
                    }
                )
        kept._log_on_customers(
            lambda p: _(
                "Promise to pay of %(amount)s by %(date)s kept: %(paid)s paid.",
                amount=p.currency_id.format(p.amount),
                date=format_date(p.env, p.date),
                paid=p.currency_id.format(p.amount_paid),
            )
        )
        broken._log_on_customers(lambda p: p._get_broken_message())
        broken._schedule_broken_activities(
            "relance_avancee.mail_activity_type_promise_broken", _("Promise broken")
        )
        return kept, broken

    def _get_broken_message(self):
        self.ensure_one()
        values = {
            "amount": self.currency_id.format(self.amount),
            "date": format_date(self.env, self.date),
            "paid": self.currency_id.format(self.amount_paid),
        }
        if self.currency_id.is_zero(self.amount_paid):
            return _(
                "Promise to pay of %(amount)s by %(date)s broken: nothing was "
                "paid. The reminders resume at once.",
                **values,
            )
        return _(
            "Promise to pay of %(amount)s by %(date)s partly kept: %(paid)s paid. "
            "The rest is chased: the reminders resume at once.",
            **values,
        )

    def _get_responsible(self):
        """Who follows this promise up: its responsible, else the customer's
        collector, else its salesperson, else the current user."""
        self.ensure_one()
        partner = self.partner_id.with_company(self.company_id)
        return (
            self.user_id
            or partner.relance_collector_id
            or partner.user_id
            or self.env.user
        )

    @api.model
    def _cron_check_promises(self):
        """Nightly: close the open promises whose date passed (kept by payments
        reconciled by the date, else broken), a bounded batch per call; Odoo
        calls again while some remain (``_notify_progress``)."""
        # sudo: a system job over every company, whoever triggers it.
        self = self.sudo()  # noqa: PLW0642
        today = fields.Date.context_today(self)
        domain = [("state", "=", "open"), ("date", "<", today)]
        promises = self.search(domain, order="date, id", limit=PROMISE_CHECK_BATCH)
        kept, broken = promises._check_kept_or_broken(today)
        # The score counts kept and broken promises: recompute it now.
        closed = kept | broken
        for company in closed.company_id:
            closed.filtered(
                lambda p, c=company: p.company_id == c
            ).partner_id._relance_update_scores(company, today=today)
        remaining = self.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(promises), remaining=remaining)
        return promises
