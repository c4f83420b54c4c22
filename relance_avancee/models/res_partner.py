from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL, format_amount, format_date, plaintext2html

from .relance_score import SCORE_NEUTRAL


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "relance.banner.mixin"]

    relance_profile_id = fields.Many2one(
        "relance.profile",
        string="Dunning profile",
        company_dependent=True,
        tracking=True,
        domain="[('company_id', 'in', (False, current_company_id))]",
        help="The risk profile whose scenario reminds this customer. Empty: the "
        "company's default profile.",
    )
    relance_profile_auto = fields.Boolean(
        string="Profile follows the score",
        company_dependent=True,
        default=True,
        help="The customer moves to the profile whose score range holds its "
        "payment-behaviour score.",
    )
    relance_score = fields.Integer(
        string="Payment score",
        company_dependent=True,
        default=SCORE_NEUTRAL,
        help="Payment behaviour from 0 (worst) to 100 (best payer); "
        "50 for a customer with no history.",
    )
    relance_excluded = fields.Boolean(
        string="Never remind",
        company_dependent=True,
        tracking=True,
        help="The dunning batch never reminds this customer.",
    )
    relance_collector_id = fields.Many2one(
        "res.users",
        string="Collector",
        company_dependent=True,
        help="The person in charge of collecting this customer's debts.",
    )
    relance_handover_state = fields.Selection(
        [("none", "Not handed over"), ("handed_over", "Handed over")],
        string="Collection handover",
        company_dependent=True,
        default="none",
        help="Handed over: the customer's debts are with a collection agency or "
        "a lawyer; the dunning batch sends it nothing until it is taken back.",
    )
    relance_handover_date = fields.Date(string="Handed over on", company_dependent=True)
    relance_handover_to = fields.Char(
        string="Handed over to",
        company_dependent=True,
        help="The collection agency or the lawyer in charge.",
    )
    relance_total_due = fields.Monetary(
        string="Total due",
        compute="_compute_relance_summary",
        currency_field="relance_currency_id",
    )
    relance_total_overdue = fields.Monetary(
        string="Total overdue",
        compute="_compute_relance_summary",
        search="_search_relance_total_overdue",
        currency_field="relance_currency_id",
        help="The amount past its due date, invoices in dispute left out (see "
        "In dispute).",
    )
    relance_total_disputed = fields.Monetary(
        string="In dispute",
        compute="_compute_relance_summary",
        currency_field="relance_currency_id",
        help="The amount still due on the invoices with an open dispute: their "
        "reminders wait for the dispute to be settled.",
    )
    relance_oldest_overdue_days = fields.Integer(
        string="Oldest overdue (days)",
        compute="_compute_relance_summary",
        help="The days past due of the oldest overdue invoice not in dispute.",
    )
    relance_currency_id = fields.Many2one(
        "res.currency", compute="_compute_relance_summary"
    )
    relance_last_date = fields.Date(
        string="Last reminder", compute="_compute_relance_history_summary"
    )
    relance_last_level_id = fields.Many2one(
        "relance.level", string="Last step", compute="_compute_relance_history_summary"
    )
    relance_history_count = fields.Integer(compute="_compute_relance_history_summary")
    relance_dispute_count = fields.Integer(compute="_compute_relance_history_summary")
    relance_next_step = fields.Char(
        string="Next planned step", compute="_compute_relance_next_step"
    )
    relance_visible = fields.Boolean(
        string="Dunning visible",
        compute="_compute_relance_visible",
        help="The current user may see this customer's receivables and reminders: "
        "the accounting team sees every customer, a salesperson their own.",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + [
            "relance_profile_id",
            "relance_profile_auto",
            "relance_excluded",
            "relance_collector_id",
            "relance_handover_state",
            "relance_handover_date",
            "relance_handover_to",
        ]

    @api.constrains("relance_profile_id")
    def _check_relance_profile_company(self):
        for partner in self:
            partner.relance_profile_id._check_used_in_company(self.env.company)

    @api.onchange("relance_profile_id")
    def _onchange_relance_profile_id(self):
        # Choosing a profile is a decision of a person: the score no longer
        # moves the customer (shown at once, kept by write() whatever the path).
        if self.relance_profile_id:
            self.relance_profile_auto = False

    @api.depends_context("uid", "company")
    def _compute_relance_visible(self):
        visible = self._relance_filter_visible()
        for partner in self:
            partner.relance_visible = partner in visible

    @api.depends_context("uid", "company")
    def _compute_relance_summary(self):
        company = self.env.company
        today = fields.Date.context_today(self)
        # Receivables are read in SQL: only those of customers the user may see.
        commercial = self.commercial_partner_id._relance_filter_visible()
        balances = self._relance_read_balances(
            company, commercial.ids, today, disputes_apart=True
        )
        for partner in self:
            due, overdue, oldest, disputed = balances.get(
                partner.commercial_partner_id.id, (0.0, 0.0, None, 0.0)
            )
            partner.relance_currency_id = company.currency_id
            partner.relance_total_due = due
            partner.relance_total_overdue = overdue
            partner.relance_total_disputed = disputed
            partner.relance_oldest_overdue_days = (today - oldest).days if oldest else 0

    @api.model
    def _relance_read_balances(self, company, partner_ids, today, disputes_apart=False):
        """Open receivable balance per commercial partner, in one grouped query:
        ``{partner_id: (total_due, total_overdue, oldest_overdue_due_date)}``;
        ``partner_ids=None``: every customer with an open receivable.

        ``disputes_apart``: the overdue amount and the oldest due date leave the
        invoices in dispute out, and a fourth value gives the amount due on
        them: ``(total_due, total_overdue, oldest_overdue_due_date,
        total_disputed)``."""
        if partner_ids is not None and not partner_ids:
            return {}
        self.env["account.move.line"].flush_model()
        self.env["account.move"].flush_model(
            ["commercial_partner_id", "state", "relance_in_dispute"]
        )
        undisputed = (
            SQL("AND m.relance_in_dispute IS NOT TRUE") if disputes_apart else SQL()
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT m.commercial_partner_id,
                       SUM(l.amount_residual),
                       SUM(l.amount_residual)
                           FILTER (WHERE l.date_maturity < %(today)s %(undisputed)s),
                       MIN(l.date_maturity) FILTER (
                           WHERE l.date_maturity < %(today)s AND l.amount_residual > 0
                                 %(undisputed)s),
                       SUM(l.amount_residual) FILTER (WHERE m.relance_in_dispute)
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN account_account a ON a.id = l.account_id
                 WHERE l.company_id = %(company)s
                   AND l.parent_state = 'posted'
                   AND a.account_type = 'asset_receivable'
                   AND NOT l.reconciled
                   %(partner_filter)s
              GROUP BY m.commercial_partner_id
                """,
                today=today,
                company=company.id,
                undisputed=undisputed,
                partner_filter=SQL(
                    "AND m.commercial_partner_id = ANY(%s)", list(partner_ids)
                )
                if partner_ids is not None
                else SQL(),
            )
        )
        if disputes_apart:
            return {
                pid: (due or 0.0, overdue or 0.0, oldest, disputed or 0.0)
                for pid, due, overdue, oldest, disputed in self.env.cr.fetchall()
            }
        return {
            pid: (due or 0.0, overdue or 0.0, oldest)
            for pid, due, overdue, oldest, _disputed in self.env.cr.fetchall()
        }

    def _search_relance_total_overdue(self, operator, value):
        domain = self._search_relance_total_overdue_all(operator, value)
        if domain is NotImplemented:
            return domain
        # A customer the user may not see matches nothing, not even "= 0":
        # the search must not tell whose receivables are overdue.
        return expression.AND([self._relance_get_visible_domain(), domain])

    def _search_relance_total_overdue_all(self, operator, value):
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            return NotImplemented
        company = self.env.company
        today = fields.Date.context_today(self)
        self.env["account.move.line"].flush_model()
        self.env["account.move"].flush_model(
            ["commercial_partner_id", "state", "relance_in_dispute"]
        )
        # The same amount as the field: invoices in dispute left out.
        self.env.cr.execute(
            SQL(
                """
                SELECT m.commercial_partner_id,
                       SUM(l.amount_residual) %(operator)s %(value)s
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN account_account a ON a.id = l.account_id
                 WHERE l.company_id = %(company)s
                   AND l.parent_state = 'posted'
                   AND a.account_type = 'asset_receivable'
                   AND NOT l.reconciled
                   AND l.date_maturity < %(today)s
                   AND m.relance_in_dispute IS NOT TRUE
              GROUP BY m.commercial_partner_id
                """,
                company=company.id,
                today=today,
                operator=SQL(operator),
                value=value or 0.0,
            )
        )
        rows = self.env.cr.fetchall()
        matching = [pid for pid, match in rows if match]
        # Customers with nothing overdue have 0: they match when 0 does.
        zero_matches = {
            "=": 0 == (value or 0.0),
            "!=": 0 != (value or 0.0),
            "<": 0 < (value or 0.0),
            "<=": 0 <= (value or 0.0),
            ">": 0 > (value or 0.0),
            ">=": 0 >= (value or 0.0),
        }[operator]
        if zero_matches:
            overdue_ids = [pid for pid, _match in rows]
            return [
                "|",
                ("commercial_partner_id", "in", matching),
                ("commercial_partner_id", "not in", overdue_ids),
            ]
        return [("commercial_partner_id", "in", matching)]

    @api.depends_context("uid", "company")
    def _compute_relance_history_summary(self):
        commercial = self.commercial_partner_id
        History = self.env["relance.history"]
        counts = {
            partner.id: count
            for partner, count in History._read_group(
                [("partner_id", "in", commercial.ids)], ["partner_id"], ["__count"]
            )
        }
        # The latest step that reached the customer (sent, or done by a
        # person: never a task still to do), on the day it was made, per
        # customer, in one query returning one row per customer (record rules
        # applied by _search), not the whole history.
        query = History._search(
            [
                ("partner_id", "in", commercial.ids),
                ("kind", "in", ("courtesy", "reminder")),
                ("state", "=", "sent"),
            ]
        )
        made_on = SQL("COALESCE(relance_history.done_date, relance_history.date)")
        query.order = SQL(
            "relance_history.partner_id, %s DESC, relance_history.id DESC", made_on
        )
        last_steps = {
            partner_id: (day, level_id)
            for partner_id, day, level_id in self.env.execute_query(
                query.select(
                    SQL(
                        "DISTINCT ON (relance_history.partner_id) "
                        "relance_history.partner_id, %s, relance_history.level_id",
                        made_on,
                    )
                )
            )
        }
        disputes = {
            partner.id: count
            for partner, count in self.env["relance.dispute"]._read_group(
                [("partner_id", "in", commercial.ids)], ["partner_id"], ["__count"]
            )
        }
        Level = self.env["relance.level"]
        for partner in self:
            cid = partner.commercial_partner_id.id
            last_date, last_level_id = last_steps.get(cid, (False, False))
            partner.relance_history_count = counts.get(cid, 0)
            partner.relance_last_date = last_date
            partner.relance_last_level_id = Level.browse(last_level_id)
            partner.relance_dispute_count = disputes.get(cid, 0)

    @api.depends_context("uid", "company")
    def _compute_relance_next_step(self):
        company = self.env.company
        today = fields.Date.context_today(self)
        plans = self.env["relance.planner"]._plan(
            company,
            today,
            partner_ids=self.commercial_partner_id._relance_filter_visible().ids,
        )
        next_by_partner = {}
        waiting_by_partner = {}
        paused_by_partner = {}
        for plan in plans:
            if plan.paused_until:
                paused_by_partner[plan.partner_id] = plan.paused_until
            if plan.waiting:
                waiting_by_partner.setdefault(plan.partner_id, plan.waiting[0])
            if not plan.levels:
                continue
            current = next_by_partner.get(plan.partner_id)
            if current is None or plan.planned_date < current.planned_date:
                next_by_partner[plan.partner_id] = plan
        paused_moves = self._relance_get_paused_moves(
            {
                partner.commercial_partner_id.id
                for partner in self
                if partner.commercial_partner_id.id not in next_by_partner
            },
            today,
        )
        for partner in self:
            cid = partner.commercial_partner_id.id
            plan = next_by_partner.get(cid)
            if cid in paused_by_partner:
                # Not a silent skip: say the step waits, and until when.
                partner.relance_next_step = _(
                    "Paused until %(date)s (the customer replied), then %(step)s",
                    date=format_date(self.env, paused_by_partner[cid]),
                    step=(plan.levels[0].name if plan else _("the scenario")),
                )
            elif plan:
                partner.relance_next_step = _(
                    "%(step)s on %(date)s",
                    step=plan.levels[0].name,
                    date=format_date(self.env, max(plan.planned_date, today)),
                )
            elif cid in waiting_by_partner:
                partner.relance_next_step = _(
                    "%s: waiting to be done", waiting_by_partner[cid].name
                )
            elif cid in paused_moves:
                # Its invoices wait for a promise, a payment plan or an
                # annotation's date: say so rather than show nothing.
                partner.relance_next_step = paused_moves[cid].relance_pause_reason
            else:
                partner.relance_next_step = False

    def _relance_get_paused_moves(self, partner_ids, today):
        """``{commercial_partner_id: account.move}``: of each of these
        customers' open invoices paused on ``today``, the one paused the
        longest (one grouped read)."""
        if not partner_ids:
            return {}
        # sudo: the customers were filtered to those the user may see (their
        # summary fields); a salesperson may not read invoices, yet sees why
        # their customer is not reminded.
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", list(partner_ids)),
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("relance_pause_until", ">=", today),
                ],
                ["commercial_partner_id"],
                ["id:recordset"],
            )
        )
        return {
            partner.id: moves.sorted("relance_pause_until", reverse=True)[:1]
            for partner, moves in groups
        }

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._relance_keep_profile_choice(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._relance_keep_profile_choice(vals)
        return super().write(vals)

    def _relance_keep_profile_choice(self, vals):
        """A profile set by a person (form, import, API) is kept: the score no
        longer moves the customer in the current company. Only the score's own
        moves (context ``relance_profile_from_score``) leave it automatic."""
        if (
            vals.get("relance_profile_id")
            and "relance_profile_auto" not in vals
            and not self.env.context.get("relance_profile_from_score")
        ):
            vals["relance_profile_auto"] = False

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_view_relance_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_history_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False, "search_default_group_by_move": 0}
        return action

    def action_view_relance_disputes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_dispute_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action

    def action_relance_preview(self):
        """Preview (and send) what the next batch would send to these customers."""
        return self.env["relance.preview.wizard"]._action_open(
            partners=self.commercial_partner_id
        )

    def action_relance_handover(self):
        """Open the wizard that hands this customer over to collection."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Hand over to collection"),
            "res_model": "relance.handover.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_relance_take_back(self):
        """Take the dunning of these customers back from collection: the batch
        reminds them again; said in their chatter."""
        if not self.env.user.has_group("relance_avancee.group_relance_user"):
            raise AccessError(
                _("Only the dunning team may take a customer back from collection.")
            )
        partners = self.commercial_partner_id.filtered(
            lambda p: p.relance_handover_state == "handed_over"
        )
        if not partners:
            raise UserError(_("These customers are not handed over to collection."))
        partners.check_access("read")
        # sudo: a Dunning user (checked above) writes the handover fields and
        # a chatter note; billing users have no write access on contacts.
        for partner in partners.sudo():
            handed_to = partner.relance_handover_to
            partner.write(
                {
                    "relance_handover_state": "none",
                    "relance_handover_date": False,
                    "relance_handover_to": False,
                }
            )
            partner.message_post(
                body=_(
                    "Dunning taken back from %(to)s by %(user)s: the dunning batch "
                    "reminds this customer again.",
                    to=handed_to or _("collection"),
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
                author_id=self.env.user.partner_id.id,
            )
        return True

    def action_relance_recompute_score(self):
        """Recompute the payment score of these customers now."""
        self.commercial_partner_id._relance_update_scores(self.env.company)
        return True

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    @api.model
    def _relance_sees_all_customers(self):
        """True when the current user sees the dunning of every customer of
        their companies (Dunning users); any other internal user sees only the
        customers they are the salesperson of. Extended by the Sales bridge."""
        return self.env.su or self.env.user.has_group(
            "relance_avancee.group_relance_user"
        )

    @api.model
    def _relance_get_visible_domain(self):
        """Domain on res.partner of the customers whose dunning (receivables,
        reminders, disputes) the current user may see; the same rule as the
        record rules of ``relance.history``."""
        if self._relance_sees_all_customers():
            return []
        return [("commercial_partner_id.user_id", "=", self.env.uid)]

    def _relance_filter_visible(self):
        """These partners, less those whose dunning the current user may not
        see (see :meth:`_relance_get_visible_domain`)."""
        if self._relance_sees_all_customers():
            return self
        user = self.env.user
        return self.filtered(lambda p: p.commercial_partner_id.user_id == user)

    def _relance_get_banner_customer(self):
        self.ensure_one()
        return self.commercial_partner_id

    def _relance_get_banner_values(self):
        """What the overdue banner says of these commercial partners:
        ``{partner_id: values}`` for those with something overdue that the
        current user may see; the values are those of the QWeb template
        ``relance_avancee.relance_overdue_banner``."""
        partners = self._relance_filter_visible()
        if not partners:
            return {}
        disputes = {
            partner.id: count
            for partner, count in self.env["relance.dispute"]._read_group(
                [("partner_id", "in", partners.ids), ("state", "=", "open")],
                ["partner_id"],
                ["__count"],
            )
        }
        promises = partners._relance_get_banner_promises()
        result = {}
        for partner in partners:
            if partner.relance_total_overdue <= 0:
                continue
            amount = format_amount(
                self.env, partner.relance_total_overdue, partner.relance_currency_id
            )
            headline = _(
                "%(amount)s overdue, the oldest invoice %(days)s days late.",
                amount=amount,
                days=partner.relance_oldest_overdue_days,
            )
            details = []
            if partner.relance_last_level_id:
                details.append(
                    _(
                        "Last reminder: %(step)s on %(date)s.",
                        step=partner.relance_last_level_id.name,
                        date=format_date(self.env, partner.relance_last_date),
                    )
                )
            if partner.relance_next_step:
                details.append(_("Next step: %s.", partner.relance_next_step))
            details += promises.get(partner.id, [])
            count = disputes.get(partner.id, 0)
            warnings = []
            if partner.relance_total_disputed:
                warnings.append(
                    _(
                        "%(amount)s in dispute, not counted as overdue.",
                        amount=format_amount(
                            self.env,
                            partner.relance_total_disputed,
                            partner.relance_currency_id,
                        ),
                    )
                )
            if count == 1:
                warnings.append(_("1 open dispute."))
            elif count:
                warnings.append(_("%s open disputes.", count))
            result[partner.id] = {
                "partner": partner,
                "headline": headline,
                "details": details,
                "warnings": warnings,
            }
        return result

    def _relance_render_banners(self):
        """The overdue banner of these commercial partners, rendered:
        ``{partner_id: Markup}``; none for a customer with nothing overdue."""
        return {
            partner_id: self.env["ir.qweb"]._render(
                "relance_avancee.relance_overdue_banner", values
            )
            for partner_id, values in self._relance_get_banner_values().items()
        }

    def _relance_get_recipient(self):
        """The billing contact of this customer, the customer itself otherwise."""
        self.ensure_one()
        invoice_id = self.address_get(["invoice"])["invoice"]
        return self.browse(invoice_id) if invoice_id else self

    def _relance_get_profile(self, company):
        """The profile that reminds this commercial partner in ``company``."""
        self.ensure_one()
        return (
            self.with_company(company).relance_profile_id
            or company.relance_default_profile_id
        )

    def _relance_get_recent_history(self, limit=10):
        self.ensure_one()
        return self.env["relance.history"].search(
            [("partner_id", "=", self.commercial_partner_id.id)],
            limit=limit,
            order="date desc, id desc",
        )

    def _relance_get_recent_history_by_partner(self, limit=10):
        """The recent history of these customers in one search:
        ``{commercial_partner_id: relance.history}``, newest first."""
        commercial = self.commercial_partner_id
        rows = self.env["relance.history"].search(
            [("partner_id", "in", commercial.ids)], order="date desc, id desc"
        )
        result = {partner.id: rows.browse() for partner in commercial}
        for row in rows:
            if len(result[row.partner_id.id]) < limit:
                result[row.partner_id.id] |= row
        return result

    def _relance_compute_scores(self, company, today=None):
        """Payment-behaviour score of these commercial partners in ``company``
        (see ``relance.score``): ``{partner_id: score}``."""
        return self.env["relance.score"]._compute_scores(self, company, today=today)

    def _relance_update_scores(self, company, today=None):
        """Recompute and store the score of these commercial partners, and move
        those with automatic assignment to the profile whose range holds it;
        each move is written in the customer's chatter."""
        partners = self.filtered(
            lambda p: p.is_company or not p.parent_id
        ).with_company(company)
        if not partners:
            return {}
        scores = partners._relance_compute_scores(company, today=today)
        Profile = self.env["relance.profile"].with_company(company)
        ranged = Profile.search(
            [("company_id", "=", company.id), ("use_score_range", "=", True)]
        )
        for partner in partners:
            old_score = partner.relance_score
            new_score = scores[partner.id]
            if old_score != new_score:
                partner.relance_score = new_score
            old_profile = partner.relance_profile_id
            if (
                not partner.relance_profile_auto
                or partner.relance_excluded
                # A profile chosen by hand outside the score ranges (a key
                # account, an export customer) is kept whatever the score.
                or (old_profile and not old_profile.use_score_range)
            ):
                continue
            target = next(
                (p for p in ranged if p.score_min <= new_score <= p.score_max),
                Profile,
            )
            if target and target != old_profile:
                partner.with_context(
                    relance_profile_from_score=True
                ).relance_profile_id = target
                partner.message_post(
                    body=_(
                        "Dunning profile changed from %(old)s to %(new)s: payment "
                        "score %(old_score)s → %(new_score)s.",
                        old=old_profile.display_name or _("none"),
                        new=target.display_name,
                        old_score=old_score,
                        new_score=new_score,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        return scores

    @api.model
    def _cron_update_relance_scores(self):
        """Nightly: recompute the scores of every customer with receivables."""
        # sudo: a system job over every company, whoever triggers it.
        self = self.sudo()  # noqa: PLW0642
        for company in self.env["res.company"].search([("relance_enabled", "=", True)]):
            self.env["account.move.line"].flush_model()
            self.env.cr.execute(
                SQL(
                    """
                    SELECT DISTINCT m.commercial_partner_id
                      FROM account_move m
                     WHERE m.company_id = %s
                       AND m.move_type = 'out_invoice'
                       AND m.state = 'posted'
                       AND m.commercial_partner_id IS NOT NULL
                    """,
                    company.id,
                )
            )
            partner_ids = [row[0] for row in self.env.cr.fetchall()]
            for start in range(0, len(partner_ids), 500):
                chunk = self.browse(partner_ids[start : start + 500])
                chunk._relance_update_scores(company)

    # -------------------------------------------------------------------------
    # Late-payment fees
    # -------------------------------------------------------------------------

    def _relance_is_business(self):
        """Whether this customer is a business debtor, who owes the recovery
        indemnity (Code de commerce D441-5): its commercial entity is a
        company or has a VAT number; a consumer owes none."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        return bool(commercial.is_company or commercial.vat)

    def action_relance_invoice_late_fees(self):
        """Invoice this customer's late fees today (Dunning users) and open
        the fees invoice."""
        self.ensure_one()
        if not self.env.user.has_group("relance_avancee.group_relance_user"):
            raise AccessError(_("Only the dunning team may invoice late fees."))
        fee_moves = self._relance_invoice_late_fees()
        return {
            "type": "ir.actions.act_window",
            "name": _("Late fees"),
            "res_model": "account.move",
            "view_mode": "form",
            "res_id": fee_moves[:1].id,
        }

    def _relance_get_late_fees_invoices(self, date):
        """The posted customer invoices of these customers, in the current
        companies, overdue at ``date`` and whose fees were not invoiced yet."""
        return self.env["account.move"].search(
            [
                ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "in", self.env.companies.ids),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("invoice_date_due", "<", date),
                ("relance_fees_move_id", "=", False),
                ("relance_is_late_fees", "=", False),
            ]
        )

    def _relance_invoice_late_fees(self, date=None):
        """Invoice the late fees of these customers' late invoices at ``date``
        (today by default), once per invoice: one posted fees invoice per
        customer; see ``account.move._relance_invoice_late_fees``.

        :raise UserError: nothing left to invoice
        """
        date = fields.Date.to_date(date) if date else fields.Date.context_today(self)
        invoices = self._relance_get_late_fees_invoices(date)
        return invoices._relance_invoice_late_fees(date)

    def _relance_should_invoice_fees(self, level):
        """Hook for the dunning batch: whether reaching ``level`` (the formal
        notice step) invoices this customer's late fees, as its profile says
        (``relance.profile.invoice_late_fees``). The batch then calls
        ``_relance_invoice_late_fees``; override to decide per customer."""
        self.ensure_one()
        return bool(level.profile_id.invoice_late_fees)

    # ------------------------------------------------------------------
    # Replies, bounces: the customer answers, the address fails
    # ------------------------------------------------------------------

    relance_pause_until = fields.Date(
        string="Reminders paused until",
        company_dependent=True,
        help="No dunning step is made for this customer up to this day "
        "included: set when the customer replies to a reminder email (see the "
        "company's setting). Clear it to resume at once.",
    )
    relance_pause_reason = fields.Char(
        string="Pause reason",
        company_dependent=True,
        help="Why this customer's reminders are paused.",
    )

    def message_update(self, msg_dict, update_vals=None):
        # The mail gateway routes a reply to a reminder email here, as the
        # reminder was posted on the customer (relance.dispatcher._send_email).
        res = super().message_update(msg_dict, update_vals=update_vals)
        self._relance_handle_reply(msg_dict)
        return res

    def _relance_handle_reply(self, msg_dict):
        """A customer replied by email to a reminder: pause the customer's
        reminders (the company's *Pause after a reply*) and give its collector
        a *Customer replied* activity. Replies from our own users, and replies
        to anything but a courtesy notice or a reminder, change nothing."""
        parent_id = msg_dict.get("parent_id")
        if not parent_id:
            return
        author = self.env["res.partner"].browse(msg_dict.get("author_id") or [])
        # sudo: the gateway runs as the alias's user; the author's users are
        # read to tell a colleague's answer from the customer's.
        if any(not user.share for user in author.sudo().user_ids):
            return
        # sudo: read which dunning email this message answers, whoever the
        # gateway's user is (the reply itself is already routed here).
        parent = self.env["mail.message"].sudo().browse(parent_id)
        comms = (
            self.env["relance.communication"]
            .sudo()
            .search(
                [
                    ("mail_message_id", "in", (parent | parent.parent_id).ids),
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("kind", "in", ("courtesy", "reminder")),
                ],
                order="id desc",
            )
        )
        for company, company_comms in comms.grouped("company_id").items():
            company_comms[0].partner_id._relance_pause_on_reply(
                company, company_comms[0], msg_dict
            )

    def _relance_pause_on_reply(self, company, comm, msg_dict):
        """Pause this customer's reminders in ``company`` after its reply to
        ``comm``, say it in its chatter and ask its collector to read it."""
        self.ensure_one()
        # sudo: the gateway's user may not write the customer (its dunning
        # fields) nor plan activities; what is written is fixed here.
        partner = self.commercial_partner_id.sudo().with_company(company)
        user = partner._relance_get_responsible_user(company)
        env_lang = partner.with_context(lang=user.lang or self.env.lang).env
        today = fields.Date.context_today(partner)
        days = company.relance_reply_pause_days
        step = comm.level_id.name or comm.display_name
        if days > 0:
            until = today + timedelta(days=days)
            if not partner.relance_pause_until or partner.relance_pause_until < until:
                partner.write(
                    {
                        "relance_pause_until": until,
                        "relance_pause_reason": env_lang._(
                            "Replied on %(date)s to %(step)s",
                            date=format_date(env_lang, today),
                            step=step,
                        ),
                    }
                )
            note = env_lang._(
                "%(partner)s replied to %(step)s: its reminders are paused until "
                "%(date)s. Read the reply in its chatter and answer it.",
                partner=partner.display_name,
                step=step,
                date=format_date(env_lang, partner.relance_pause_until),
            )
        else:
            note = env_lang._(
                "%(partner)s replied to %(step)s. Read the reply in its chatter "
                "and answer it.",
                partner=partner.display_name,
                step=step,
            )
        partner._message_log(body=note)
        partner._relance_schedule_activity(
            company,
            "relance_avancee.mail_activity_type_relance_reply",
            env_lang._("Customer replied to %s", step),
            note,
            user=user,
        )

    def _relance_get_responsible_user(self, company):
        """Who follows this customer's dunning in ``company``: its collector,
        else the company's default collector, else its salesperson, else a
        dunning manager (else the current user)."""
        self.ensure_one()
        partner = self.commercial_partner_id.with_company(company)
        for user in (
            partner.relance_collector_id,
            company.relance_default_collector_id,
            partner.user_id,
        ):
            if user and user.active and not user.share and company in user.company_ids:
                return user
        managers = self.env["relance.digest"]._get_digest_managers(company)
        return managers[:1] or self.env.user

    def _relance_schedule_activity(self, company, type_xmlid, summary, note, user=None):
        """Give this customer's dunning responsible (or ``user``) an activity
        of type ``type_xmlid`` due today, unless one of that type is still
        open on the customer: the person is not asked twice."""
        self.ensure_one()
        partner = self.commercial_partner_id
        activity_type = self.env.ref(type_xmlid)
        # sudo: the batch (and a salesperson's action) assigns the task to
        # the dunning responsible, on a customer the caller may not follow.
        Activity = self.env["mail.activity"].sudo()
        if Activity.search_count(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("activity_type_id", "=", activity_type.id),
            ],
            limit=1,
        ):
            return Activity
        user = user or partner._relance_get_responsible_user(company)
        # sudo: an activity asked by the dunning machinery (gateway, mail
        # queue, cron), assigned to the person in charge of the customer.
        return Activity.create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": partner.id,
                "activity_type_id": activity_type.id,
                "date_deadline": fields.Date.context_today(self),
                "summary": summary,
                "note": plaintext2html(note),
                "user_id": user.id,
            }
        )

    def _relance_on_bounce(self, comms, reason, channel="email"):
        """A dunning email or SMS to these customers could not be delivered
        (the mail server or the SMS provider refused it, a bounce came back):
        ask the person in charge of each customer to fix its email address or
        mobile number, once while the activity is open. Nothing is sent again
        by itself."""
        for comm in comms:
            company = comm.company_id
            partner = comm.partner_id.commercial_partner_id.with_company(company)
            recipient = comm.recipient_id or comm.partner_id
            user = partner._relance_get_responsible_user(company)
            env_lang = partner.with_context(lang=user.lang or self.env.lang).env
            step = comm.level_id.name or comm.display_name
            if channel == "sms":
                type_xmlid = "relance_avancee.mail_activity_type_relance_sms_failure"
                summary = env_lang._(
                    "Fix the mobile number of %s", recipient.display_name
                )
                note = env_lang._(
                    "%(step)s by SMS to %(number)s could not be delivered: "
                    "%(reason)s Fix the number, then send the reminder again from "
                    "its communication (it is not sent again by itself).",
                    step=step,
                    number=comm.sms_number or recipient.mobile or recipient.phone or "",
                    reason=reason or "",
                )
            else:
                type_xmlid = "relance_avancee.mail_activity_type_relance_bounce"
                summary = env_lang._(
                    "Fix the email address of %s", recipient.display_name
                )
                note = env_lang._(
                    "%(step)s to %(email)s could not be delivered: %(reason)s "
                    "Fix the address, then send the reminder again from its "
                    "communication (it is not sent again by itself).",
                    step=step,
                    email=recipient.email or "",
                    reason=reason or "",
                )
            partner._relance_schedule_activity(
                company, type_xmlid, summary, note, user=user
            )

    # -------------------------------------------------------------------------
    # Promises to pay and invoice annotations
    # -------------------------------------------------------------------------

    relance_promise_count = fields.Integer(
        string="Promises", compute="_compute_relance_promise_count"
    )
    relance_annotation_ids = fields.One2many(
        "relance.annotation",
        string="Annotations of open invoices",
        compute="_compute_relance_annotation_ids",
        help="The notes kept on this customer's invoices still to be paid, "
        "newest first.",
    )

    def _compute_relance_promise_count(self):
        commercial = self.commercial_partner_id
        counts = {
            partner.id: count
            for partner, count in self.env["relance.promise"]._read_group(
                [("partner_id", "in", commercial.ids)], ["partner_id"], ["__count"]
            )
        }
        for partner in self:
            partner.relance_promise_count = counts.get(
                partner.commercial_partner_id.id, 0
            )

    def _compute_relance_annotation_ids(self):
        commercial = self.commercial_partner_id._relance_filter_visible()
        annotations = self.env["relance.annotation"].search(
            [("partner_id", "in", commercial.ids)]
        )
        # sudo: whether the invoice is still open, for users who see the
        # annotation (its record rules) without accounting rights.
        open_moves = set(
            annotations.move_id.sudo()
            .filtered(lambda m: m.payment_state in ("not_paid", "partial"))
            .ids
        )
        for partner in self:
            cid = partner.commercial_partner_id.id
            partner.relance_annotation_ids = annotations.filtered(
                lambda a, cid=cid: a.partner_id.id == cid and a.move_id.id in open_moves
            )

    def _relance_get_banner_promises(self):
        """The banner lines of these customers' open promises to pay:
        ``{partner_id: [text]}``; record rules apply (a salesperson sees the
        promises of their own customers)."""
        promises = self.env["relance.promise"].search(
            [
                ("partner_id", "in", self.ids),
                ("company_id", "in", self.env.companies.ids),
                ("state", "=", "open"),
            ],
            order="date, id",
        )
        result = {}
        for promise in promises:
            result.setdefault(promise.partner_id.id, []).append(
                _(
                    "Promise to pay: %(amount)s by %(date)s.",
                    amount=format_amount(self.env, promise.amount, promise.currency_id),
                    date=format_date(self.env, promise.date),
                )
            )
        return result

    def action_view_relance_promises(self):
        """The customer's promises to pay; a new one is for this customer."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_promise_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def action_relance_record_promise(self):
        """Open a new promise to pay for this customer, covering its overdue
        invoices (the collector may remove some)."""
        self.ensure_one()
        customer = self.commercial_partner_id
        moves = self.env["relance.promise"]._get_open_invoices(
            customer, self.env.company
        )
        today = fields.Date.context_today(self)
        overdue = moves.filtered(
            lambda m: m.invoice_date_due and m.invoice_date_due < today
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Record a promise to pay"),
            "res_model": "relance.promise",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_partner_id": customer.id,
                "default_company_id": self.env.company.id,
                "default_move_ids": [fields.Command.set(overdue.ids)],
                "default_amount": sum(overdue.mapped("amount_residual_signed")),
            },
        }

    # ------------------------------------------------------------------
    # Calls and payment plans (relance.call, relance.payment.plan)
    # ------------------------------------------------------------------

    relance_call_count = fields.Integer(
        string="Calls", compute="_compute_relance_call_count"
    )

    def _compute_relance_call_count(self):
        counts = dict(
            self.env["relance.call"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.relance_call_count = counts.get(partner.commercial_partner_id, 0)

    def action_relance_log_call(self):
        """Log a call to this customer (its pending phone step made by it)."""
        self.ensure_one()
        return self.env["relance.call.wizard"]._action_open(self)

    def action_view_relance_calls(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_call_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    relance_payment_plan_ids = fields.One2many(
        "relance.payment.plan", "partner_id", string="Payment plans"
    )
    relance_payment_plan_count = fields.Integer(
        string="Payment plans #", compute="_compute_relance_payment_plan_count"
    )

    def _compute_relance_payment_plan_count(self):
        counts = dict(
            self.env["relance.payment.plan"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.relance_payment_plan_count = counts.get(
                partner.commercial_partner_id, 0
            )

    def action_view_relance_payment_plans(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "relance_avancee.relance_payment_plan_action"
        )
        partner = self.commercial_partner_id
        action["domain"] = [("partner_id", "=", partner.id)]
        action["context"] = {"default_partner_id": partner.id}
        return action

    def action_relance_new_payment_plan(self):
        """A new plan for this customer, on its overdue invoices."""
        self.ensure_one()
        partner = self.commercial_partner_id
        return {
            "type": "ir.actions.act_window",
            "name": _("Payment plan"),
            "res_model": "relance.payment.plan",
            "view_mode": "form",
            "views": [(False, "form")],
            "context": {"default_partner_id": partner.id},
        }
