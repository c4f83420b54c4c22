from odoo import api, fields, models, tools
from odoo.tools import SQL

from .relance_kpi_aged import kpi_partner_columns
from .relance_level import CHANNELS, TONES


class RelanceKpiLevel(models.Model):
    """Step effectiveness: one row per courtesy notice or reminder sent, with
    the day its invoice was fully paid, so the share of invoices paid within
    the company's window after each step compares steps, tones and channels."""

    _name = "relance.kpi.level"
    _description = "Dunning step effectiveness"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "move_id"

    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    level_id = fields.Many2one("relance.level", string="Step", readonly=True)
    profile_id = fields.Many2one("relance.profile", readonly=True)
    tone = fields.Selection(TONES, readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    kind = fields.Selection(
        [("courtesy", "Courtesy notice"), ("reminder", "Reminder")], readonly=True
    )
    salesperson_id = fields.Many2one("res.users", readonly=True)
    collector_id = fields.Many2one("res.users", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(string="Sent on", readonly=True)
    amount = fields.Monetary(string="Invoice amount", readonly=True)
    paid_date = fields.Date(
        string="Paid on",
        readonly=True,
        help="The day the invoice became fully paid (its last reconciliation).",
    )
    days_to_payment = fields.Integer(
        string="Days to payment",
        readonly=True,
        aggregator="avg",
        help="Days from the step to the full payment of the invoice; grouped, the "
        "average.",
    )
    paid_within = fields.Float(
        string="Paid within window (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 2),
        help="100 when the invoice was fully paid within the company's KPI window "
        "(Settings > Dunning, 15 days by default) after the step, 0 when not; "
        "empty while the window is still open. Grouped: the share paid, in %.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._get_steps_query(SQL("CURRENT_DATE")),
            )
        )

    @api.model
    def _get_steps_query(self, today):
        """Courtesy notices and reminders sent, with the day their invoice was
        fully paid: the latest reconciliation of its receivable lines once all
        are reconciled. ``today`` (a date or an SQL expression) tells which
        windows are still open: those give no verdict yet (NULL)."""
        return SQL(
            """
            SELECT s.*,
                   CASE WHEN s.paid_date IS NOT NULL
                         AND s.paid_date - s.date <= s.paid_days THEN 100.0
                        WHEN s.paid_date IS NULL
                         AND s.date + s.paid_days >= %(today)s THEN NULL
                        ELSE 0.0
                   END AS paid_within,
                   GREATEST(s.paid_date - s.date, 0) AS days_to_payment
              FROM (
                SELECT h.id,
                       h.company_id,
                       h.partner_id,
                       h.move_id,
                       h.level_id,
                       lv.tone,
                       h.channel,
                       h.kind,
                       %(partner_columns)s,
                       c.currency_id,
                       COALESCE(h.done_date, h.date) AS date,
                       m.amount_total_signed AS amount,
                       paid.paid_date,
                       c.relance_kpi_paid_days AS paid_days
                  FROM relance_history h
                  JOIN account_move m ON m.id = h.move_id
                  JOIN res_partner p ON p.id = h.partner_id
                  JOIN res_company c ON c.id = h.company_id
             LEFT JOIN relance_level lv ON lv.id = h.level_id
             LEFT JOIN LATERAL (
                       SELECT MAX(pr.max_date) AS paid_date
                         FROM account_move_line il
                         JOIN account_partial_reconcile pr
                           ON pr.debit_move_id = il.id OR pr.credit_move_id = il.id
                        WHERE il.move_id = h.move_id
                          AND il.display_type = 'payment_term'
                          AND NOT EXISTS (
                              SELECT 1
                                FROM account_move_line ol
                               WHERE ol.move_id = h.move_id
                                 AND ol.display_type = 'payment_term'
                                 AND NOT ol.reconciled)
                       ) paid ON TRUE
                 WHERE h.state = 'sent'
                   AND h.kind IN ('courtesy', 'reminder')
              ) s
            """,
            today=today,
            # A step belongs to its level's profile, whatever the customer's now.
            partner_columns=kpi_partner_columns(
                "p", "c", profile=SQL("COALESCE(lv.profile_id, h.profile_id)")
            ),
        )
