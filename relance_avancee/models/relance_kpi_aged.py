from odoo import api, fields, models, tools
from odoo.tools import SQL

# Keys sort in the buckets' order: pivots and graphs order groups by key.
AGED_BUCKETS = [
    ("0_not_due", "Not due"),
    ("1_30", "1–30 days"),
    ("31_60", "31–60 days"),
    ("61_90", "61–90 days"),
    ("91_plus", "Over 90 days"),
]


def kpi_partner_columns(partner, company, profile=None):
    """SQL of the customer's profile (the company's default profile when the
    customer has none, or the ``profile`` SQL expression first when given),
    salesperson and collector in ``company``, for a ``res_partner`` alias and a
    ``res_company`` alias. Profile and collector are company-dependent: a jsonb
    keyed by the company id."""
    return SQL(
        """
        COALESCE(%(profile)s,
                 (%(partner)s.relance_profile_id ->> %(company)s.id::text)::int,
                 %(company)s.relance_default_profile_id) AS profile_id,
        %(partner)s.user_id AS salesperson_id,
        (%(partner)s.relance_collector_id ->> %(company)s.id::text)::int
            AS collector_id
        """,
        profile=profile or SQL("NULL::int"),
        partner=SQL.identifier(partner),
        company=SQL.identifier(company),
    )


class RelanceKpiAged(models.Model):
    """Aged balance: one row per open receivable line of a customer, with its
    lateness bucket today. The dashboard reads the same query at any date
    (:meth:`_get_open_lines_query`), so both agree."""

    _name = "relance.kpi.aged"
    _description = "Aged customer balance"
    _auto = False
    _order = "date_maturity, id"
    _rec_name = "move_id"

    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    move_id = fields.Many2one("account.move", string="Journal entry", readonly=True)
    profile_id = fields.Many2one("relance.profile", readonly=True)
    salesperson_id = fields.Many2one("res.users", readonly=True)
    collector_id = fields.Many2one("res.users", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date_maturity = fields.Date(string="Due date", readonly=True)
    days_late = fields.Integer(
        readonly=True,
        aggregator="max",
        help="Days since the due date (zero or less: not due yet); grouped, the "
        "oldest.",
    )
    bucket = fields.Selection(AGED_BUCKETS, string="Age", readonly=True)
    amount_residual = fields.Monetary(string="Amount due", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._get_open_lines_query(SQL("CURRENT_DATE")),
            )
        )

    @api.model
    def _get_open_lines_query(self, day):
        """The customers' receivable lines open at the end of ``day`` (a date or
        an SQL expression), with their residual at that date in company
        currency: the balance less the reconciliations dated up to that day
        (a partial reconciliation is dated by its latest line, ``max_date``).
        """
        return SQL(
            """
            SELECT q.*,
                   CASE WHEN q.days_late <= 0 THEN '0_not_due'
                        WHEN q.days_late <= 30 THEN '1_30'
                        WHEN q.days_late <= 60 THEN '31_60'
                        WHEN q.days_late <= 90 THEN '61_90'
                        ELSE '91_plus'
                   END AS bucket
              FROM (
                SELECT l.id,
                       l.company_id,
                       m.commercial_partner_id AS partner_id,
                       l.move_id,
                       %(partner_columns)s,
                       c.currency_id,
                       COALESCE(l.date_maturity, l.date) AS date_maturity,
                       %(day)s - COALESCE(l.date_maturity, l.date) AS days_late,
                       l.balance - COALESCE(matched.debit_amount, 0)
                           + COALESCE(matched.credit_amount, 0) AS amount_residual
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN account_account a ON a.id = l.account_id
                  JOIN res_partner p ON p.id = m.commercial_partner_id
                  JOIN res_company c ON c.id = l.company_id
             LEFT JOIN LATERAL (
                       SELECT SUM(pr.amount) FILTER (WHERE pr.debit_move_id = l.id)
                                  AS debit_amount,
                              SUM(pr.amount) FILTER (WHERE pr.credit_move_id = l.id)
                                  AS credit_amount
                         FROM account_partial_reconcile pr
                        WHERE (pr.debit_move_id = l.id OR pr.credit_move_id = l.id)
                          AND pr.max_date <= %(day)s
                       ) matched ON TRUE
                 WHERE l.parent_state = 'posted'
                   AND a.account_type = 'asset_receivable'
                   AND l.date <= %(day)s
                   AND (NOT l.reconciled
                        OR l.id IN (SELECT debit_move_id
                                      FROM account_partial_reconcile
                                     WHERE max_date > %(day)s
                                    UNION ALL
                                    SELECT credit_move_id
                                      FROM account_partial_reconcile
                                     WHERE max_date > %(day)s))
              ) q
             WHERE q.amount_residual != 0
            """,
            day=day,
            partner_columns=kpi_partner_columns("p", "c"),
        )
