from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

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
    _inherit = ["mail.thread", "mail.activity.mixin"]
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
        for promise in self:
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
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
        return super().create(vals_list)

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
        return True
