from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .relance_level import CHANNELS

HISTORY_STATES = [
    ("todo", "To do"),
    ("sent", "Sent"),
    ("error", "Error"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
]


class RelanceHistory(models.Model):
    """One row per invoice × dunning step: what was done, when, and why not.

    Rows are unique per (invoice, level, cycle) for reminders and per invoice for
    the thank-you message (partial unique indexes created in :meth:`init`): the
    same step can never be recorded, hence never sent, twice. A cancelled step
    was never sent: it leaves room for the same step to be recorded again (an
    invoice reset to draft and posted again, a payment undone).
    """

    _name = "relance.history"
    _description = "Dunning history"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "move_id"

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
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        readonly=True,
        ondelete="cascade",
        check_company=True,
    )
    level_id = fields.Many2one(
        "relance.level",
        index=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    profile_id = fields.Many2one("relance.profile", readonly=True, ondelete="set null")
    communication_id = fields.Many2one(
        "relance.communication",
        index=True,
        readonly=True,
        ondelete="set null",
    )
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
    tone = fields.Selection(related="level_id.tone")
    state = fields.Selection(
        HISTORY_STATES, required=True, default="todo", index=True, readonly=True
    )
    date = fields.Date(required=True, default=fields.Date.context_today, readonly=True)
    cycle = fields.Integer(default=1, required=True, readonly=True)
    due_date = fields.Date(readonly=True)
    registered_number = fields.Char(
        related="communication_id.registered_number",
        string="Registered mail number",
    )
    days_overdue = fields.Integer(readonly=True)
    amount_residual = fields.Monetary(
        string="Amount due", currency_field="currency_id", readonly=True
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_company = fields.Monetary(
        string="Amount due (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company currency"
    )
    reason = fields.Text(readonly=True, help="Why this step failed or was skipped.")
    sent_date = fields.Datetime(readonly=True)
    done_date = fields.Date(
        string="Done on",
        readonly=True,
        help="The day the step was made: the batch's day, or the day a person "
        "did it. The scenario's next step is spaced from it.",
    )
    user_id = fields.Many2one("res.users", string="Responsible", readonly=True)

    def init(self):
        # Partial unique indexes: SQL constraints cannot carry a WHERE clause.
        # The step index of older versions counted cancelled rows: rebuilt once.
        self.env.cr.execute(
            """
            SELECT indexdef FROM pg_indexes
             WHERE tablename = 'relance_history'
               AND indexname = 'relance_history_step_uniq'
            """
        )
        row = self.env.cr.fetchone()
        if row and "cancelled" not in row[0]:
            self.env.cr.execute("DROP INDEX relance_history_step_uniq")
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS relance_history_step_uniq
                ON relance_history (move_id, level_id, cycle)
             WHERE kind IN ('courtesy', 'reminder') AND state != 'cancelled';
            CREATE UNIQUE INDEX IF NOT EXISTS relance_history_thanks_uniq
                ON relance_history (move_id)
             WHERE kind = 'thanks';
            """
        )

    @api.depends("move_id", "level_id")
    def _compute_display_name(self):
        for row in self:
            step = row.level_id.name or dict(
                self._fields["kind"]._description_selection(self.env)
            ).get(row.kind)
            row.display_name = f"{row.move_id.name or ''} – {step or ''}"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        if any(row.state == "sent" for row in self):
            raise UserError(
                _(
                    "A sent reminder is part of the customer's history: it cannot "
                    "be deleted."
                )
            )

    def action_open_communication(self):
        self.ensure_one()
        return self.communication_id._get_records_action(
            name=self.communication_id.display_name
        )

    def action_retry(self):
        """Send again the communications of these rows that ended in error."""
        self.communication_id.action_retry()
