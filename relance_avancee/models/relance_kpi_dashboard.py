from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .relance_kpi_aged import kpi_partner_columns

BUCKET_FIELDS = {
    "0_not_due": "aged_not_due",
    "1_30": "aged_1_30",
    "31_60": "aged_31_60",
    "61_90": "aged_61_90",
    "91_plus": "aged_91_plus",
}


class RelanceKpiDashboard(models.TransientModel):
    """The manager's dashboard: DSO, average days late, recovery rate, aged
    balance and the share of reminded invoices paid after each step, over a
    period, for a company and optionally one profile, salesperson or collector.
    Each figure is one grouped SQL query (definitions in readme/USAGE.md)."""

    _name = "relance.kpi.dashboard"
    _description = "Dunning KPIs"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_from = fields.Date(
        string="From", required=True, default=lambda self: self._default_date_from()
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    profile_id = fields.Many2one(
        "relance.profile",
        check_company=True,
        help="Only the customers of this profile.",
    )
    salesperson_id = fields.Many2one(
        "res.users", help="Only the customers of this user."
    )
    collector_id = fields.Many2one(
        "res.users", help="Only the customers of this collector."
    )
    paid_days = fields.Integer(related="company_id.relance_kpi_paid_days")

    receivable_amount = fields.Monetary(
        string="Receivables at the end",
        compute="_compute_kpis",
        store=True,
        help="Customers' receivable balance at the end of the period.",
    )
    sales_amount = fields.Monetary(
        string="Sales of the period",
        compute="_compute_kpis",
        store=True,
        help="Customer invoices less credit notes dated in the period, taxes included.",
    )
    dso = fields.Float(
        string="DSO (days)",
        digits=(16, 2),
        compute="_compute_kpis",
        store=True,
        help="Days sales outstanding: receivables at the end of the period / "
        "sales of the period × days of the period.",
    )
    overdue_amount = fields.Monetary(
        string="Overdue at the end",
        compute="_compute_kpis",
        store=True,
    )
    avg_days_late = fields.Float(
        string="Average days late",
        digits=(16, 2),
        compute="_compute_kpis",
        store=True,
        help="Days late of the overdue invoices at the end of the period, "
        "weighted by their amount due.",
    )
    recovery_base = fields.Monetary(
        string="Overdue at the start",
        compute="_compute_kpis",
        store=True,
    )
    recovered_amount = fields.Monetary(
        string="Recovered in the period",
        compute="_compute_kpis",
        store=True,
        help="Part of the amount overdue at the start that was paid (or credited) "
        "by the end of the period.",
    )
    recovery_rate = fields.Float(
        string="Recovery rate (%)",
        digits=(16, 2),
        compute="_compute_kpis",
        store=True,
    )
    aged_not_due = fields.Monetary(
        string="Not due", compute="_compute_kpis", store=True
    )
    aged_1_30 = fields.Monetary(string="1–30 days", compute="_compute_kpis", store=True)
    aged_31_60 = fields.Monetary(
        string="31–60 days", compute="_compute_kpis", store=True
    )
    aged_61_90 = fields.Monetary(
        string="61–90 days", compute="_compute_kpis", store=True
    )
    aged_91_plus = fields.Monetary(
        string="Over 90 days", compute="_compute_kpis", store=True
    )
    level_line_ids = fields.One2many(
        "relance.kpi.dashboard.level",
        "dashboard_id",
        string="Steps",
        compute="_compute_kpis",
        store=True,
    )

    @api.model
    def _default_date_from(self):
        """Three full months ending today."""
        today = fields.Date.context_today(self)
        return today - relativedelta(months=3) + timedelta(days=1)

    @api.depends(
        "company_id",
        "company_id.relance_kpi_paid_days",
        "date_from",
        "date_to",
        "profile_id",
        "salesperson_id",
        "collector_id",
    )
    def _compute_kpis(self):
        for dashboard in self:
            dashboard.update(dashboard._get_kpi_values())

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for dashboard in self:
            if dashboard.date_from > dashboard.date_to:
                raise ValidationError(_("The period must end after it starts."))

    def action_open_aged(self):
        """The aged balance today, in pivot and graph, for this dashboard's
        company and filters."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_kpi_aged_action"
        )
        action["domain"] = self._get_report_domain()
        return action

    def action_open_steps(self):
        """Step effectiveness of the steps sent in the period, in pivot and
        graph, for this dashboard's company and filters."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_kpi_level_action"
        )
        action["domain"] = self._get_report_domain() + [
            ("date", ">=", self.date_from),
            ("date", "<=", self.date_to),
        ]
        return action

    def _get_report_domain(self):
        self.ensure_one()
        domain = [("company_id", "=", self.company_id.id)]
        for fname in ("profile_id", "salesperson_id", "collector_id"):
            if self[fname]:
                domain.append((fname, "=", self[fname].id))
        return domain

    def _get_kpi_filter(self, alias):
        """SQL condition on a KPI query's rows (``alias``): this dashboard's
        company and filters."""
        self.ensure_one()
        conditions = [
            SQL("%s = %s", SQL.identifier(alias, "company_id"), self.company_id.id)
        ]
        for fname in ("profile_id", "salesperson_id", "collector_id"):
            if self[fname]:
                conditions.append(
                    SQL("%s = %s", SQL.identifier(alias, fname), self[fname].id)
                )
        return SQL(" AND ").join(conditions)

    def _get_kpi_values(self):
        """Every figure of the dashboard, as field values."""
        self.ensure_one()
        values = {
            fname: 0.0
            for fname, field in self._fields.items()
            if field.compute == "_compute_kpis" and field.type != "one2many"
        }
        values["level_line_ids"] = [Command.clear()]
        if (
            not self.date_from
            or not self.date_to
            or self.date_from > self.date_to
            or self.company_id not in self.env.companies
        ):
            return values
        # The figures are read by raw SQL from the report models and the
        # ledger: the user must be allowed to read the reports.
        self.env["relance.kpi.aged"].check_access("read")
        self.env["relance.kpi.level"].check_access("read")
        # The queries read the ledger, the customers and the history in SQL.
        self.env.flush_all()
        values.update(self._get_aged_values())
        values.update(self._get_dso_values(values["receivable_amount"]))
        values.update(self._get_recovery_values())
        values["level_line_ids"] += [
            Command.create(line) for line in self._get_level_lines()
        ]
        return values

    def _get_aged_values(self):
        """Aged balance, receivables and amount-weighted days late at the end
        of the period."""
        query = self.env["relance.kpi.aged"]._get_open_lines_query(self.date_to)
        self.env.cr.execute(
            SQL(
                """
                SELECT q.bucket,
                       SUM(q.amount_residual),
                       SUM(q.amount_residual) FILTER (
                           WHERE q.days_late > 0 AND q.amount_residual > 0),
                       SUM(q.amount_residual * q.days_late) FILTER (
                           WHERE q.days_late > 0 AND q.amount_residual > 0)
                  FROM (%s) q
                 WHERE %s
              GROUP BY q.bucket
                """,
                query,
                self._get_kpi_filter("q"),
            )
        )
        values = {"receivable_amount": 0.0, "overdue_amount": 0.0}
        weighted_days = 0.0
        for bucket, amount, overdue, amount_days in self.env.cr.fetchall():
            values[BUCKET_FIELDS[bucket]] = float(amount)
            values["receivable_amount"] += float(amount)
            values["overdue_amount"] += float(overdue or 0.0)
            weighted_days += float(amount_days or 0.0)
        values["avg_days_late"] = (
            weighted_days / values["overdue_amount"]
            if values["overdue_amount"]
            else 0.0
        )
        return values

    def _get_dso_values(self, receivable_amount):
        """Sales of the period and days sales outstanding."""
        self.env.cr.execute(
            SQL(
                """
                SELECT COALESCE(SUM(s.amount), 0)
                  FROM (
                    SELECT m.company_id,
                           m.amount_total_signed AS amount,
                           %s
                      FROM account_move m
                      JOIN res_partner p ON p.id = m.commercial_partner_id
                      JOIN res_company c ON c.id = m.company_id
                     WHERE m.state = 'posted'
                       AND m.move_type IN ('out_invoice', 'out_refund')
                       AND m.invoice_date BETWEEN %s AND %s
                  ) s
                 WHERE %s
                """,
                kpi_partner_columns("p", "c"),
                self.date_from,
                self.date_to,
                self._get_kpi_filter("s"),
            )
        )
        sales = float(self.env.cr.fetchone()[0])
        days = (self.date_to - self.date_from).days + 1
        return {
            "sales_amount": sales,
            "dso": receivable_amount / sales * days if sales else 0.0,
        }

    def _get_recovery_values(self):
        """Amount overdue at the start of the period (due before it, unpaid at
        the end of the day before) and the part of it reconciled in the period.
        """
        query = self.env["relance.kpi.aged"]._get_open_lines_query(
            self.date_from - timedelta(days=1)
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT COALESCE(SUM(q.amount_residual), 0),
                       COALESCE(SUM(paid.amount), 0)
                  FROM (%s) q
             LEFT JOIN LATERAL (
                       SELECT SUM(pr.amount) AS amount
                         FROM account_partial_reconcile pr
                        WHERE pr.debit_move_id = q.id
                          AND pr.max_date BETWEEN %s AND %s
                       ) paid ON TRUE
                 WHERE q.date_maturity < %s
                   AND q.amount_residual > 0
                   AND %s
                """,
                query,
                self.date_from,
                self.date_to,
                self.date_from,
                self._get_kpi_filter("q"),
            )
        )
        base, recovered = (float(amount) for amount in self.env.cr.fetchone())
        return {
            "recovery_base": base,
            "recovered_amount": recovered,
            "recovery_rate": recovered / base * 100.0 if base else 0.0,
        }

    def _get_level_lines(self):
        """Per step, the courtesy notices and reminders sent in the period and
        how many of their invoices were paid within the company's window."""
        today = fields.Date.context_today(self)
        query = self.env["relance.kpi.level"]._get_steps_query(today)
        self.env.cr.execute(
            SQL(
                """
                SELECT s.level_id,
                       COUNT(*),
                       COUNT(*) FILTER (WHERE s.paid_within IS NULL),
                       COUNT(*) FILTER (WHERE s.paid_within = 100),
                       AVG(s.paid_within)
                  FROM (%s) s
                 WHERE s.level_id IS NOT NULL
                   AND s.date BETWEEN %s AND %s
                   AND %s
              GROUP BY s.level_id
                """,
                query,
                self.date_from,
                self.date_to,
                self._get_kpi_filter("s"),
            )
        )
        rows = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        levels = (
            self.env["relance.level"]
            .browse(list(rows))
            .sorted(
                lambda level: (
                    level.profile_id.sequence,
                    level.profile_id.id,
                    level.sequence,
                    level.delay,
                    level.id,
                )
            )
        )
        lines = []
        for level in levels:
            sent, pending, paid, share = rows[level.id]
            lines.append(
                {
                    "level_id": level.id,
                    "sent_count": sent,
                    "pending_count": pending,
                    "paid_count": paid,
                    "share": float(share or 0.0),
                }
            )
        return lines
