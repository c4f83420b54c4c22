from odoo import _, fields, models, tools
from odoo.tools import SQL, format_date


class RelanceCustomerBalance(models.Model):
    """The collector's worklist: one row per customer and company with an open
    receivable balance, read from the ledger by one grouped SQL view, so it can
    be sorted by overdue amount or age on any ledger size."""

    _name = "relance.customer.balance"
    _description = "Customer balance to collect"
    _auto = False
    _order = "amount_overdue desc, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_due = fields.Monetary(
        string="Due",
        readonly=True,
        help="Everything the customer owes, due or not, invoices in dispute included.",
    )
    amount_overdue = fields.Monetary(
        string="Overdue",
        readonly=True,
        help="The amount past its due date, invoices in dispute left out.",
    )
    amount_disputed = fields.Monetary(
        string="In dispute",
        readonly=True,
        help="The amount due on the invoices with an open dispute: their "
        "reminders wait for the dispute to be settled.",
    )
    oldest_due_date = fields.Date(
        string="Oldest due",
        readonly=True,
        help="The due date of the oldest overdue invoice not in dispute.",
    )
    days_overdue = fields.Integer(
        string="Days late",
        readonly=True,
        aggregator="max",
        help="The days past due of the oldest overdue invoice not in dispute. "
        "Rows in red: more than 60 days; in orange: 31 to 60 days; greyed: the "
        "customer is never reminded.",
    )
    overdue_count = fields.Integer(
        string="Invoices",
        readonly=True,
        help="The number of overdue invoices not in dispute.",
    )
    profile_id = fields.Many2one("relance.profile", readonly=True)
    score = fields.Integer(
        readonly=True,
        aggregator="avg",
        help="Payment behaviour from 0 (worst) to 100 (best payer).",
    )
    collector_id = fields.Many2one("res.users", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    excluded = fields.Boolean(string="Never remind", readonly=True)
    last_reminder_date = fields.Date(
        string="Reminded",
        readonly=True,
        help="The day the last courtesy notice or reminder reached the customer "
        "(sent, or done by a person); a task still to do does not count.",
    )
    dispute_count = fields.Integer(
        string="Disputes",
        readonly=True,
        help="The number of open disputes of the customer.",
    )
    annotation_count = fields.Integer(
        string="Annotations",
        readonly=True,
        help="The number of annotations on the customer's invoices still to be paid.",
    )
    promise_date = fields.Date(
        string="Promised for",
        readonly=True,
        help="The date of the customer's open promise to pay (the earliest when "
        "several are open).",
    )
    promise_amount = fields.Monetary(
        string="Promised",
        readonly=True,
        help="The amount of the customer's open promises to pay.",
    )
    last_annotation = fields.Char(
        string="Last annotation",
        compute="_compute_last_annotation",
        help="The latest annotation on the customer's open invoices.",
    )
    next_step = fields.Char(
        related="partner_id.relance_next_step",
        string="Next action",
        help="The next step the batch will make for this customer and when, or "
        "the task waiting to be done.",
    )

    paused_until = fields.Date(
        string="Paused until",
        readonly=True,
        help="The customer replied to a reminder: no step is made for it up to "
        "this day included.",
    )
    waiting_level_id = fields.Many2one(
        "relance.level",
        string="Waiting task",
        readonly=True,
        help="The oldest dunning task of the customer still to do (a call, a "
        "letter to print, a manual sending): its scenario waits for it.",
    )
    waiting_days = fields.Integer(
        string="Waiting (days)",
        readonly=True,
        aggregator="max",
        help="How many days the oldest task still to do has been waiting.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    SELECT MIN(l.id) AS id,
                           m.commercial_partner_id AS partner_id,
                           l.company_id,
                           c.currency_id,
                           SUM(l.amount_residual) AS amount_due,
                           COALESCE(SUM(l.amount_residual) FILTER (
                               WHERE l.date_maturity < CURRENT_DATE
                                 AND m.relance_in_dispute IS NOT TRUE), 0)
                               AS amount_overdue,
                           COALESCE(SUM(l.amount_residual)
                               FILTER (WHERE m.relance_in_dispute), 0)
                               AS amount_disputed,
                           MIN(l.date_maturity) FILTER (
                               WHERE l.date_maturity < CURRENT_DATE
                                 AND l.amount_residual > 0
                                 AND m.relance_in_dispute IS NOT TRUE)
                               AS oldest_due_date,
                           COALESCE(CURRENT_DATE - MIN(l.date_maturity) FILTER (
                               WHERE l.date_maturity < CURRENT_DATE
                                 AND l.amount_residual > 0
                                 AND m.relance_in_dispute IS NOT TRUE), 0)
                               AS days_overdue,
                           COUNT(DISTINCT l.move_id) FILTER (
                               WHERE l.date_maturity < CURRENT_DATE
                                 AND l.amount_residual > 0
                                 AND m.relance_in_dispute IS NOT TRUE)
                               AS overdue_count,
                           COALESCE(
                               (p.relance_profile_id ->> l.company_id::text)::int,
                               c.relance_default_profile_id) AS profile_id,
                           COALESCE((p.relance_score ->> l.company_id::text)::int, 50)
                               AS score,
                           (p.relance_collector_id ->> l.company_id::text)::int
                               AS collector_id,
                           p.user_id,
                           COALESCE((p.relance_excluded ->> l.company_id::text)::bool,
                                    FALSE) AS excluded,
                           (SELECT MAX(COALESCE(h.done_date, h.date))
                              FROM relance_history h
                             WHERE h.partner_id = m.commercial_partner_id
                               AND h.company_id = l.company_id
                               AND h.kind IN ('courtesy', 'reminder')
                               AND h.state = 'sent') AS last_reminder_date,
                           (SELECT COUNT(*) FROM relance_dispute d
                             WHERE d.partner_id = m.commercial_partner_id
                               AND d.company_id = l.company_id
                               AND d.state = 'open') AS dispute_count,
                           NULLIF(GREATEST(
                               (p.relance_pause_until ->> l.company_id::text)::date,
                               CURRENT_DATE - 1), CURRENT_DATE - 1) AS paused_until,
                           (SELECT w.level_id FROM relance_communication w
                             WHERE w.partner_id = m.commercial_partner_id
                               AND w.company_id = l.company_id
                               AND w.state = 'todo'
                               AND (w.manual
                                    OR w.channel IN ('letter', 'formal_notice'))
                          ORDER BY w.date, w.id LIMIT 1) AS waiting_level_id,
                           (SELECT CURRENT_DATE - MIN(w.date)
                              FROM relance_communication w
                             WHERE w.partner_id = m.commercial_partner_id
                               AND w.company_id = l.company_id
                               AND w.state = 'todo'
                               AND (w.manual
                                    OR w.channel IN ('letter', 'formal_notice')))
                               AS waiting_days,
                           (SELECT COUNT(*) FROM relance_annotation n
                              JOIN account_move nm ON nm.id = n.move_id
                             WHERE n.partner_id = m.commercial_partner_id
                               AND n.company_id = l.company_id
                               AND nm.payment_state IN ('not_paid', 'partial'))
                               AS annotation_count,
                           (SELECT MIN(pr.date) FROM relance_promise pr
                             WHERE pr.partner_id = m.commercial_partner_id
                               AND pr.company_id = l.company_id
                               AND pr.state = 'open') AS promise_date,
                           (SELECT SUM(pr.amount) FROM relance_promise pr
                             WHERE pr.partner_id = m.commercial_partner_id
                               AND pr.company_id = l.company_id
                               AND pr.state = 'open') AS promise_amount
                      FROM account_move_line l
                      JOIN account_move m ON m.id = l.move_id
                      JOIN account_account a ON a.id = l.account_id
                      JOIN res_partner p ON p.id = m.commercial_partner_id
                      JOIN res_company c ON c.id = l.company_id
                     WHERE l.parent_state = 'posted'
                       AND a.account_type = 'asset_receivable'
                       AND NOT l.reconciled
                  GROUP BY m.commercial_partner_id, l.company_id, c.currency_id,
                           c.relance_default_profile_id, p.id
                    HAVING SUM(l.amount_residual) != 0
                )
                """,
                table=SQL.identifier(self._table),
            )
        )

    def _compute_last_annotation(self):
        annotations = {}
        for partner in self.partner_id:
            for annotation in partner.relance_annotation_ids:
                annotations.setdefault(
                    (partner.id, annotation.company_id.id), annotation
                )
        for balance in self:
            annotation = annotations.get((balance.partner_id.id, balance.company_id.id))
            balance.last_annotation = (
                _(
                    "%(date)s, %(author)s – %(annotation)s",
                    date=format_date(self.env, annotation.create_date),
                    author=annotation.user_id.name,
                    annotation=annotation._get_pause_reason(),
                )
                if annotation
                else False
            )

    def action_open_partner(self):
        self.ensure_one()
        return self.partner_id._get_records_action(name=self.partner_id.display_name)

    def action_preview(self):
        """Preview and send the reminders of the selected customers."""
        return self.env["relance.preview.wizard"]._action_open(partners=self.partner_id)

    def action_view_history(self):
        self.ensure_one()
        action = self.partner_id.action_view_relance_history()
        action["name"] = _("Reminders of %s", self.partner_id.display_name)
        return action

    def action_record_promise(self):
        """Record a promise to pay of this customer."""
        self.ensure_one()
        return self.partner_id.with_company(
            self.company_id
        ).action_relance_record_promise()
