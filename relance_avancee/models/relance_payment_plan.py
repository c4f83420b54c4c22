"""Payment plans: a customer in difficulty pays its overdue invoices in
instalments. The covered invoices' reminders pause while the instalments are
paid on time; a missed instalment is reminded at once (its own email), and a
plan still behind after its grace period is broken: the reminders resume.
"""

from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

# Plans checked per cron call: Odoo calls again while some remain.
PLAN_CHECK_BATCH = 200


class RelancePaymentPlan(models.Model):
    _name = "relance.payment.plan"
    _description = "Payment plan"
    _inherit = ["mail.thread", "mail.activity.mixin", "relance.customer.log.mixin"]
    _order = "id desc"
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
        "relance_payment_plan_account_move_rel",
        "plan_id",
        "move_id",
        string="Invoices",
        check_company=True,
        help="The invoices the plan settles; their reminders pause while the "
        "instalments are paid on time.",
        domain="[('commercial_partner_id', '=', partner_id), "
        "('move_type', 'in', ('out_invoice', 'out_receipt')), "
        "('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    currency_id = fields.Many2one(
        related="company_id.currency_id", string="Currency", store=True
    )
    amount_total = fields.Monetary(
        string="Debt",
        readonly=True,
        copy=False,
        help="What the covered invoices owed when the plan started (company "
        "currency): the instalments add up to exactly this amount.",
    )
    amount_scheduled = fields.Monetary(
        string="Scheduled", compute="_compute_amount_scheduled"
    )
    amount_paid = fields.Monetary(
        string="Paid",
        compute="_compute_amount_paid",
        help="Paid on the covered invoices since the plan started.",
    )
    line_ids = fields.One2many(
        "relance.payment.plan.line", "plan_id", string="Instalments", copy=True
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("completed", "Completed"),
            ("broken", "Broken"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        help="Who follows the plan up: they get an activity if it is broken.",
    )
    date_start = fields.Date(string="Started on", readonly=True, copy=False)
    date_closed = fields.Date(string="Closed on", readonly=True, copy=False)
    grace_days = fields.Integer(
        string="Grace (days)",
        default=10,
        help="Days a missed instalment may still be caught up (it is reminded "
        "at once) before the plan is broken and the reminders resume.",
    )
    send_agreement = fields.Boolean(
        string="Email the agreement",
        default=True,
        help="Email the schedule to the customer when the plan starts.",
    )
    note = fields.Text()
    # Schedule generator (draft plans)
    instalment_count = fields.Integer(string="Number of instalments", default=3)
    first_date = fields.Date(string="First instalment on")
    interval = fields.Selection(
        [("weekly", "Every week"), ("monthly", "Every month")],
        default="monthly",
        required=True,
    )
    next_line_id = fields.Many2one(
        "relance.payment.plan.line",
        string="Next instalment",
        compute="_compute_next_line_id",
    )

    _sql_constraints = [
        (
            "grace_days_positive",
            "CHECK(grace_days >= 0)",
            "The grace period cannot be negative.",
        ),
    ]

    @api.depends("partner_id")
    def _compute_name(self):
        for plan in self:
            plan.name = _(
                "%(customer)s – payment plan",
                customer=plan.partner_id.display_name or "",
            )

    @api.onchange("move_ids")
    def _onchange_move_ids(self):
        if self.state == "draft":
            self._refresh_debt()

    def _refresh_debt(self):
        """The debt of a draft plan: what its invoices owe now."""
        for plan in self:
            plan.amount_total = sum(plan.move_ids.mapped("amount_residual_signed"))

    @api.depends("line_ids.amount")
    def _compute_amount_scheduled(self):
        for plan in self:
            plan.amount_scheduled = sum(plan.line_ids.mapped("amount"))

    @api.depends("amount_total", "move_ids.amount_residual_signed", "state")
    def _compute_amount_paid(self):
        for plan in self:
            if plan.state == "draft":
                plan.amount_paid = 0.0
                continue
            residual = sum(plan.move_ids.mapped("amount_residual_signed"))
            plan.amount_paid = max(plan.amount_total - residual, 0.0)

    @api.depends("line_ids.state", "line_ids.date")
    def _compute_next_line_id(self):
        for plan in self:
            plan.next_line_id = plan.line_ids.filtered(
                lambda line: line.state in ("pending", "missed")
            )[:1]

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        """Propose the customer's overdue invoices."""
        if self.state != "draft" or not self.partner_id:
            return
        today = fields.Date.context_today(self)
        self.move_ids = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("move_type", "in", ("out_invoice", "out_receipt")),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", today),
            ]
        )

    # ------------------------------------------------------------------
    # Schedule
    # ------------------------------------------------------------------

    def action_compute_schedule(self):
        """Split the debt into ``instalment_count`` equal instalments (the
        rounding difference on the last one), every week or month from the
        first date."""
        self._check_draft()
        self._refresh_debt()
        for plan in self:
            if plan.instalment_count < 1:
                raise UserError(_("A payment plan has at least one instalment."))
            if not plan.first_date:
                raise UserError(_("Say when the first instalment is due."))
            currency = plan.currency_id
            count = plan.instalment_count
            share = currency.round(plan.amount_total / count)
            step = (
                relativedelta(months=1)
                if plan.interval == "monthly"
                else relativedelta(weeks=1)
            )
            commands = [Command.clear()]
            for index in range(count):
                amount = (
                    share
                    if index < count - 1
                    else currency.round(plan.amount_total - share * (count - 1))
                )
                commands.append(
                    Command.create(
                        {
                            "sequence": index + 1,
                            "date": plan.first_date + step * index,
                            "amount": amount,
                        }
                    )
                )
            plan.line_ids = commands
        return True

    def _check_schedule(self):
        """The instalments must settle exactly the debt, on dates to come.

        :raise ValidationError: saying what is wrong, with the figures
        """
        today = fields.Date.context_today(self)
        for plan in self:
            currency = plan.currency_id
            if not plan.move_ids:
                raise ValidationError(_("Choose the invoices the plan settles."))
            others = plan.move_ids.filtered(
                lambda m, p=plan: (
                    m.commercial_partner_id != p.partner_id
                    or m.state != "posted"
                    or m.move_type not in ("out_invoice", "out_receipt")
                    or m.payment_state not in ("not_paid", "partial")
                )
            )
            if others:
                raise ValidationError(
                    _(
                        "A payment plan of %(customer)s settles its own open "
                        "invoices only, not %(moves)s.",
                        customer=plan.partner_id.display_name,
                        moves=", ".join(others.mapped("display_name")),
                    )
                )
            if not plan.line_ids:
                raise ValidationError(_("A payment plan has at least one instalment."))
            lines = plan.line_ids.sorted(lambda line: (line.date, line.id))
            if any(currency.compare_amounts(line.amount, 0.0) <= 0 for line in lines):
                raise ValidationError(_("Every instalment must be a positive amount."))
            if lines[0].date < today:
                raise ValidationError(
                    _("The first instalment cannot be due in the past.")
                )
            dates = lines.mapped("date")
            if len(set(dates)) != len(dates):
                raise ValidationError(_("Two instalments cannot fall on the same day."))
            total = sum(lines.mapped("amount"))
            if currency.compare_amounts(total, plan.amount_total):
                raise ValidationError(
                    _(
                        "The instalments add up to %(total)s but the debt is "
                        "%(debt)s: a difference of %(diff)s.",
                        total=currency.format(total),
                        debt=currency.format(plan.amount_total),
                        diff=currency.format(total - plan.amount_total),
                    )
                )
            busy = self.search(
                [
                    ("id", "!=", plan.id),
                    ("state", "=", "running"),
                    ("move_ids", "in", plan.move_ids.ids),
                ]
            )
            if busy:
                raise ValidationError(
                    _(
                        "%(moves)s already belong to the running plan %(plan)s.",
                        moves=", ".join(
                            (busy.move_ids & plan.move_ids).mapped("display_name")
                        ),
                        plan=busy[0].display_name,
                    )
                )

    def _check_draft(self):
        for plan in self:
            if plan.state != "draft":
                raise UserError(_("%s has started: its schedule is fixed.", plan.name))

    # ------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------

    def action_confirm(self):
        """Start the plan: the debt is fixed at what the invoices owe now, the
        schedule checked against it, the invoices' reminders paused and the
        agreement emailed to the customer when asked."""
        self._check_draft()
        self._refresh_debt()
        self._check_schedule()
        today = fields.Date.context_today(self)
        self.write({"state": "running", "date_start": today})
        self.line_ids.write({"state": "pending"})
        self._log_on_customers(
            lambda plan: _(
                "Payment plan started: %(amount)s in %(count)s instalments, the "
                "last on %(date)s. The reminders of its invoices pause while it "
                "is paid on time.",
                amount=plan.currency_id.format(plan.amount_total),
                count=len(plan.line_ids),
                date=format_date(plan.env, max(plan.line_ids.mapped("date"))),
            )
        )
        agreed = self.filtered("send_agreement")
        if agreed:
            agreed._send_template(
                "relance_avancee.mail_template_relance_payment_plan_agreement"
            )
        return True

    def action_cancel(self):
        for plan in self:
            if plan.state not in ("draft", "running"):
                raise UserError(_("%s is closed: it cannot be cancelled.", plan.name))
        running = self.filtered(lambda p: p.state == "running")
        self.write(
            {"state": "cancelled", "date_closed": fields.Date.context_today(self)}
        )
        running._log_on_customers(
            lambda plan: _(
                "Payment plan cancelled by %s: the reminders resume.",
                plan.env.user.name,
            )
        )
        return True

    def action_draft(self):
        for plan in self:
            if plan.state != "cancelled" or plan.date_start:
                raise UserError(
                    _("Only a plan cancelled before it started can be reset.")
                )
        self.write({"state": "draft", "date_closed": False})
        return True

    @api.ondelete(at_uninstall=False)
    def _unlink_except_started(self):
        if any(plan.date_start for plan in self):
            raise UserError(
                _("A payment plan that started is part of the customer's history.")
            )

    # ------------------------------------------------------------------
    # Following the instalments
    # ------------------------------------------------------------------

    def _read_paid(self):
        """``{plan_id: amount}`` paid on each plan's invoices since it started
        (company currency): their debt minus what they still owe, in one
        query."""
        if not self:
            return {}
        for model in ("account.move.line", "relance.payment.plan"):
            self.env[model].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT rel.plan_id, COALESCE(SUM(l.amount_residual), 0)
                  FROM relance_payment_plan_account_move_rel rel
                  JOIN account_move_line l ON l.move_id = rel.move_id
                  JOIN account_account a ON a.id = l.account_id
                 WHERE rel.plan_id = ANY(%s)
                   AND a.account_type = 'asset_receivable'
              GROUP BY rel.plan_id
                """,
                self.ids,
            )
        )
        residual = dict(self.env.cr.fetchall())
        return {
            plan.id: max(plan.amount_total - residual.get(plan.id, 0.0), 0.0)
            for plan in self
        }

    def _check_instalments(self, today):
        """Follow the running plans of ``self`` at ``today``.

        Instalments are paid in order: instalment *n* is paid when the
        payments on the plan's invoices reach the sum of instalments 1 to *n*.
        An instalment whose date passed unpaid is *missed*: its reminder email
        leaves at once (once). A plan whose missed instalment is still unpaid
        ``grace_days`` after its date is *broken*: the reminders of its
        invoices resume at once and its responsible gets an activity. A plan
        whose debt is paid is *completed*.

        :return: ``(missed lines newly reminded, completed plans, broken plans)``
        """
        plans = self.filtered(lambda p: p.state == "running")
        paid_by_plan = plans._read_paid()
        newly_missed = self.env["relance.payment.plan.line"]
        completed = broken = self.browse()
        line_states = defaultdict(lambda: self.env["relance.payment.plan.line"])
        for plan in plans:
            currency = plan.currency_id
            paid = paid_by_plan.get(plan.id, 0.0)
            if currency.compare_amounts(paid, plan.amount_total) >= 0:
                line_states["paid"] |= plan.line_ids
                completed |= plan
                continue
            cumulated = 0.0
            for line in plan.line_ids.sorted(lambda ln: (ln.date, ln.id)):
                cumulated += line.amount
                if currency.compare_amounts(paid, cumulated) >= 0:
                    line_states["paid"] |= line
                elif line.date < today:
                    line_states["missed"] |= line
                    if line.state != "missed":
                        newly_missed |= line
                    if line.date + timedelta(days=plan.grace_days) < today:
                        broken |= plan
                else:
                    line_states["pending"] |= line
        for state, lines in line_states.items():
            lines.filtered(lambda ln, s=state: ln.state != s).write({"state": state})
        newly_missed = newly_missed.filtered(lambda ln: ln.plan_id not in broken)
        if newly_missed:
            newly_missed.write({"reminded_date": today})
            newly_missed.plan_id._send_template(
                "relance_avancee.mail_template_relance_payment_plan_missed"
            )
            newly_missed.plan_id._log_on_customers(
                lambda plan: _(
                    "Instalment of %(amount)s due on %(date)s missed: the customer "
                    "was reminded.",
                    amount=plan.currency_id.format(plan._get_missed_line().amount),
                    date=format_date(plan.env, plan._get_missed_line().date),
                )
            )
        if completed:
            completed.write({"state": "completed", "date_closed": today})
            completed._log_on_customers(
                lambda plan: _(
                    "Payment plan completed: %s paid.",
                    plan.currency_id.format(plan.amount_total),
                )
            )
        if broken:
            broken.write({"state": "broken", "date_closed": today})
            broken._log_on_customers(lambda plan: plan._get_broken_message())
            broken._schedule_broken_activities(
                "relance_avancee.mail_activity_type_payment_plan_broken",
                _("Payment plan broken"),
            )
        return newly_missed, completed, broken

    def _get_pause_end(self):
        """The last day this plan pauses its invoices' reminders: its last
        instalment's date plus the grace period (a plan still behind then is
        broken, and the reminders resume that day)."""
        self.ensure_one()
        return max(self.line_ids.mapped("date")) + timedelta(days=self.grace_days)

    def _get_missed_line(self):
        """The oldest missed instalment of this plan."""
        self.ensure_one()
        return self.line_ids.filtered(lambda ln: ln.state == "missed").sorted(
            lambda ln: (ln.date, ln.id)
        )[:1]

    def _get_broken_message(self):
        self.ensure_one()
        line = self._get_missed_line()
        return _(
            "Payment plan broken: the instalment of %(amount)s due on %(date)s is "
            "still unpaid after %(days)s days of grace. The reminders of its "
            "invoices resume at once.",
            amount=self.currency_id.format(line.amount),
            date=format_date(self.env, line.date),
            days=self.grace_days,
        )

    def _get_responsible(self):
        """Who follows this plan up: its responsible, else the customer's
        collector, else the current user."""
        self.ensure_one()
        partner = self.partner_id.with_company(self.company_id)
        return self.user_id or partner.relance_collector_id or self.env.user

    def _send_template(self, xmlid):
        """Queue the email ``xmlid`` for each of these plans (rendered for all
        of them at once, each in its customer's language)."""
        template = self.env.ref(xmlid, raise_if_not_found=False)
        if not template:
            self._log_on_customers(
                lambda plan: _(
                    "The payment plan's email could not be sent: its template "
                    "was deleted."
                )
            )
            return
        # sudo: templates and the mail queue are written by the dunning's own
        # messages to the customer, not by what the user may edit.
        template.sudo().send_mail_batch(self.ids)

    @api.model
    def _cron_check_payment_plans(self):
        """Daily: follow the running plans, a bounded batch per call; Odoo
        calls again while some remain (``_notify_progress``)."""
        # sudo: a system job over every company, whoever triggers it.
        self = self.sudo()  # noqa: PLW0642
        today = fields.Date.context_today(self)
        last = self.env.context.get("relance_plan_after_id", 0)
        plans = self.search(
            [("state", "=", "running"), ("id", ">", last)],
            order="id",
            limit=PLAN_CHECK_BATCH,
        )
        plans._check_instalments(today)
        remaining = (
            self.search_count([("state", "=", "running"), ("id", ">", plans[-1:].id)])
            if plans
            else 0
        )
        self.env["ir.cron"]._notify_progress(done=len(plans), remaining=remaining)
        return plans


class RelancePaymentPlanLine(models.Model):
    _name = "relance.payment.plan.line"
    _description = "Payment plan instalment"
    _order = "date, sequence, id"

    plan_id = fields.Many2one(
        "relance.payment.plan", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    partner_id = fields.Many2one(
        related="plan_id.partner_id", store=True, string="Customer"
    )
    currency_id = fields.Many2one(related="plan_id.currency_id")
    sequence = fields.Integer(default=1)
    date = fields.Date(string="Due on", required=True)
    amount = fields.Monetary(required=True, currency_field="currency_id")
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("pending", "To pay"),
            ("paid", "Paid"),
            ("missed", "Missed"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
    )
    reminded_date = fields.Date(
        string="Reminded on",
        readonly=True,
        copy=False,
        help="When the customer was reminded of this missed instalment.",
    )

    @api.depends("plan_id", "date", "amount")
    def _compute_display_name(self):
        for line in self:
            line.display_name = _(
                "%(amount)s on %(date)s",
                amount=line.currency_id.format(line.amount) if line.currency_id else "",
                date=format_date(line.env, line.date) if line.date else "",
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_started(self):
        if any(line.plan_id.state != "draft" for line in self):
            raise UserError(_("The schedule of a plan that started is fixed."))

    def write(self, vals):
        if {"date", "amount"} & set(vals) and any(
            line.plan_id.state != "draft" for line in self
        ):
            raise UserError(_("The schedule of a plan that started is fixed."))
        return super().write(vals)
