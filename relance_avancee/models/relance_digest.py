"""The periodic dunning digest.

On each company's digest day, every salesperson gets one email about *their*
customers (those whose commercial partner names them as salesperson): the
overdue amounts, what was sent since the last digest, the open disputes, the
promises to pay, and the tasks waiting for them; the dunning managers get a
summary of the company (totals by profile, biggest debtors, communications in
error). The content is read for the whole company with a few grouped queries,
then each email is rendered from an editable ``mail.template`` on
``res.users`` in the recipient's language and queued in the mail queue.
"""

import logging
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)

DIGEST_SECTIONS = ("customers", "sent", "disputes", "promises", "tasks")
SUMMARY_SECTIONS = ("profiles", "errors")
DIGEST_DEBTORS_LIMIT = 10
DIGEST_ERRORS_LIMIT = 20


class RelanceDigest(models.AbstractModel):
    _name = "relance.digest"
    _description = "Dunning digest"

    # ------------------------------------------------------------------
    # When
    # ------------------------------------------------------------------

    @api.model
    def _get_digest_due_date(self, company, today):
        """The latest day on or before ``today`` when a digest of ``company``
        is due, or ``None`` when it never sends one."""
        interval = company.relance_digest_interval
        if interval == "daily":
            return today
        if interval == "weekly":
            weekday = int(company.relance_digest_weekday or 0)
            return today - timedelta(days=(today.weekday() - weekday) % 7)
        if interval == "monthly":
            return today.replace(day=1)
        return None

    @api.model
    def _is_digest_day(self, company, today):
        """Whether ``company`` owes its digest today: a digest day went by
        since the last digest (a day the cron did not run is caught up at its
        next run; a second run the same day sends nothing)."""
        due = self._get_digest_due_date(company, today)
        if due is None:
            return False
        # Never sent: as if sent yesterday, so the first one goes on a digest day.
        last = company.relance_digest_last_date or today - timedelta(days=1)
        return last < due <= today

    @api.model
    def _get_digest_since(self, company, today):
        """The day after which the digest reports what happened: the last
        digest's day, else one interval back."""
        if company.relance_digest_last_date:
            return company.relance_digest_last_date
        if company.relance_digest_interval == "daily":
            return today - timedelta(days=1)
        if company.relance_digest_interval == "monthly":
            return today - relativedelta(months=1)
        return today - timedelta(days=7)

    # ------------------------------------------------------------------
    # Who
    # ------------------------------------------------------------------

    @api.model
    def _filter_digest_users(self, company, users):
        """The users of ``users`` who may receive a digest of ``company``:
        active internal users of the company, never OdooBot."""
        return users.filtered(
            lambda u: (
                u.active
                and not u.share
                and u.id != SUPERUSER_ID
                and company in u.company_ids
            )
        )

    @api.model
    def _get_digest_managers(self, company):
        """The dunning managers of ``company``, who get its summary."""
        group = self.env.ref("relance_avancee.group_relance_manager")
        managers = self.env["res.users"].search(
            [
                ("groups_id", "in", group.ids),
                ("share", "=", False),
                ("company_ids", "in", company.ids),
            ]
        )
        return self._filter_digest_users(company, managers)

    @api.model
    def _get_digest_salespeople(self, company, partner_ids):
        """The salesperson of each of these customers (commercial partners),
        in one grouped query: ``{partner_id: res.users}``; customers without a
        salesperson who may receive the digest are left out."""
        if not partner_ids:
            return {}
        groups = (
            self.env["res.partner"]
            .with_context(active_test=False)
            ._read_group(
                [("id", "in", list(partner_ids)), ("user_id", "!=", False)],
                ["user_id"],
                ["id:array_agg"],
            )
        )
        users = self._filter_digest_users(
            company, self.env["res.users"].union(*(user for user, _ids in groups))
        )
        return {
            partner_id: user
            for user, ids in groups
            if user in users
            for partner_id in ids
        }

    # ------------------------------------------------------------------
    # What: one hook per section, each for the whole company at once
    # ------------------------------------------------------------------

    @api.model
    def _get_digest_customers(self, company, today, balances, salespeople):
        """Customers with an overdue amount, per salesperson, largest first:
        ``{user_id: [{'partner', 'overdue', 'due', 'days'}]}``."""
        result = {}
        Partner = self.env["res.partner"]
        for partner_id, (due, overdue, oldest) in balances.items():
            user = salespeople.get(partner_id)
            if not user:
                continue
            result.setdefault(user.id, []).append(
                {
                    "partner": Partner.browse(partner_id),
                    "overdue": overdue,
                    "due": due,
                    "days": (today - oldest).days if oldest else 0,
                }
            )
        for rows in result.values():
            rows.sort(key=lambda row: -row["overdue"])
        return result

    @api.model
    def _get_digest_sent(self, company, today, since, salespeople):
        """Communications made since the last digest (emails, SMS, letters,
        calls and manual steps done), per salesperson of their customer:
        ``{user_id: [{'communication', 'date'}]}``, oldest first."""
        comms = self.env["relance.communication"].search(
            self._get_digest_sent_domain(company, today, since)
            + [("partner_id", "in", list(salespeople))],
            order="sent_date, id",
        )
        result = {}
        for comm in comms:
            result.setdefault(salespeople[comm.partner_id.id].id, []).append(
                {"communication": comm, "date": comm.sent_date.date()}
            )
        return result

    @api.model
    def _get_digest_sent_domain(self, company, today, since):
        """Communications of ``company`` made after the day ``since`` until
        ``today`` included."""
        return [
            ("company_id", "=", company.id),
            ("state", "=", "sent"),
            ("sent_date", ">=", datetime.combine(since + timedelta(days=1), time.min)),
            ("sent_date", "<", datetime.combine(today + timedelta(days=1), time.min)),
        ]

    @api.model
    def _get_digest_disputes(self, company, today, salespeople):
        """Open disputes of the salespeople's customers:
        ``{user_id: [{'dispute', 'days'}]}``, oldest first."""
        disputes = self.env["relance.dispute"].search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "open"),
                ("partner_id", "in", list(salespeople)),
            ],
            order="date_open, id",
        )
        result = {}
        for dispute in disputes:
            result.setdefault(salespeople[dispute.partner_id.id].id, []).append(
                {"dispute": dispute, "days": (today - dispute.date_open).days}
            )
        return result

    @api.model
    def _get_digest_promises(self, company, today, salespeople):
        """Promises to pay of the salespeople's customers: the open ones and
        those broken since the last digest, by promised date:
        ``{user_id: [{'promise', 'partner', 'date', 'amount', 'state'}]}``."""
        since = self._get_digest_since(company, today)
        promises = self.env["relance.promise"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "in", list(salespeople)),
                "|",
                ("state", "=", "open"),
                "&",
                ("state", "=", "broken"),
                ("date_closed", ">", since),
            ],
            order="date, id",
        )
        result = {}
        for promise in promises:
            result.setdefault(salespeople[promise.partner_id.id].id, []).append(
                {
                    "promise": promise,
                    "partner": promise.partner_id,
                    "date": promise.date,
                    "amount": promise.amount,
                    "state": promise.state,
                }
            )
        return result

    @api.model
    def _get_digest_tasks(self, company, today):
        """Tasks waiting for a person (phone calls, manual steps, letters to
        send), per responsible user, with how many days they have waited:
        ``{user_id: [{'communication', 'days'}]}``, oldest first."""
        comms = self.env["relance.communication"].search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "todo"),
                ("user_id", "!=", False),
            ],
            order="date, id",
        )
        users = self._filter_digest_users(company, comms.user_id)
        result = {}
        for comm in comms:
            if comm.user_id not in users:
                continue
            result.setdefault(comm.user_id.id, []).append(
                {"communication": comm, "days": (today - comm.date).days}
            )
        return result

    @api.model
    def _get_digest_profiles(self, company, balances):
        """Overdue totals by risk profile, largest first:
        ``[{'profile', 'customers', 'overdue'}]``; an empty profile stands
        for the customers excluded from dunning."""
        profiles = self.env["relance.planner"]._read_profiles(company, list(balances))
        Profile = self.env["relance.profile"]
        totals = {}
        for partner_id, (_due, overdue, _oldest) in balances.items():
            profile = profiles.get(partner_id) or Profile
            row = totals.setdefault(
                profile.id, {"profile": profile, "customers": 0, "overdue": 0.0}
            )
            row["customers"] += 1
            row["overdue"] += overdue
        return sorted(totals.values(), key=lambda row: -row["overdue"])

    @api.model
    def _get_digest_debtors(self, company, today, balances, salespeople):
        """The biggest debtors: ``[{'partner', 'overdue', 'days', 'salesperson'}]``."""
        biggest = sorted(balances.items(), key=lambda item: -item[1][1])
        Partner = self.env["res.partner"]
        return [
            {
                "partner": Partner.browse(partner_id),
                "overdue": overdue,
                "days": (today - oldest).days if oldest else 0,
                "salesperson": salespeople.get(partner_id) or self.env["res.users"],
            }
            for partner_id, (_due, overdue, oldest) in biggest[:DIGEST_DEBTORS_LIMIT]
        ]

    @api.model
    def _get_digest_errors(self, company):
        """Communications in error, to fix and send again: ``(newest first up
        to a limit, how many in all)``."""
        domain = [("company_id", "=", company.id), ("state", "=", "error")]
        Comm = self.env["relance.communication"]
        errors = Comm.search(
            domain, order="date desc, id desc", limit=DIGEST_ERRORS_LIMIT
        )
        count = len(errors)
        if count == DIGEST_ERRORS_LIMIT:
            count = Comm.search_count(domain)
        return errors, count

    # ------------------------------------------------------------------
    # Assembling
    # ------------------------------------------------------------------

    @api.model
    def _prepare_digest(self, company, today, since=None):
        """Everything the digests of ``company`` report, read for the whole
        company at once: ``{'salesperson': {user_id: values}, 'summary':
        values}``. The values hold records and numbers, the templates format
        them in each recipient's language."""
        if since is None:
            since = self._get_digest_since(company, today)
        self = self.with_company(company)  # noqa: PLW0642 - the digest's company
        currency = company.currency_id
        balances = self.env["res.partner"]._relance_read_balances(company, None, today)
        # The digest is about overdue amounts: customers who owe nothing past
        # their due dates are not listed.
        overdue = {
            partner_id: balance
            for partner_id, balance in balances.items()
            if currency.compare_amounts(balance[1], 0.0) > 0
        }
        dispute_partners = self.env["relance.dispute"]._read_group(
            [("company_id", "=", company.id), ("state", "=", "open")],
            ["partner_id"],
        )
        partner_ids = set(balances) | {partner.id for (partner,) in dispute_partners}
        # Customers reminded in the period may owe nothing any more.
        partner_ids |= {
            partner.id
            for (partner,) in self.env["relance.communication"]._read_group(
                self._get_digest_sent_domain(company, today, since), ["partner_id"]
            )
        }
        salespeople = self._get_digest_salespeople(company, partner_ids)
        base = {
            "company": company,
            "currency": currency,
            "since": since,
            "today": today,
        }
        sections = {
            "customers": self._get_digest_customers(
                company, today, overdue, salespeople
            ),
            "sent": self._get_digest_sent(company, today, since, salespeople),
            "disputes": self._get_digest_disputes(company, today, salespeople),
            "promises": self._get_digest_promises(company, today, salespeople),
            "tasks": self._get_digest_tasks(company, today),
        }
        user_ids = {uid for rows in sections.values() for uid in rows}
        digests = {}
        for user_id in user_ids:
            values = dict(
                base, **{key: rows.get(user_id, []) for key, rows in sections.items()}
            )
            values["total_overdue"] = sum(row["overdue"] for row in values["customers"])
            digests[user_id] = values
        errors, error_count = self._get_digest_errors(company)
        summary = dict(
            base,
            profiles=self._get_digest_profiles(company, overdue),
            debtors=self._get_digest_debtors(company, today, overdue, salespeople),
            errors=errors,
            error_count=error_count,
            customer_count=len(overdue),
            total_overdue=sum(balance[1] for balance in overdue.values()),
        )
        return {
            "company": company,
            "base": base,
            "salesperson": digests,
            "summary": summary,
        }

    @api.model
    def _has_digest_content(self, values, sections=DIGEST_SECTIONS):
        """Whether a digest has anything to report: nobody gets an empty one."""
        return any(values.get(section) for section in sections)

    @api.model
    def _get_digest_values(self, user, kind="salesperson"):
        """The values a digest template renders for ``user``, with records in
        the rendering's environment (its language): those the cron prepared
        for the whole company, or, for a preview, read now."""
        data = self.env.context.get("relance_digest")
        if not data or data["company"] != user.env.company:
            # A preview reads the whole company's receivables: the dunning
            # team's (the digest itself is rendered by the cron, prepared).
            if not (
                self.env.su
                or self.env.user.has_group("relance_avancee.group_relance_user")
            ):
                raise AccessError(
                    _("Only the dunning team may preview the dunning digests.")
                )
            data = self._prepare_digest(
                user.env.company, fields.Date.context_today(user)
            )
        values = (
            data["summary"]
            if kind == "summary"
            else data["salesperson"].get(user.id)
            or dict(
                data["base"],
                total_overdue=0.0,
                **{section: [] for section in DIGEST_SECTIONS},
            )
        )
        values = _with_env(values, user.env)
        values["label"] = self._get_selection_label
        return values

    @api.model
    def _get_selection_label(self, record, fname):
        """The label of a selection field's value, in the record's language."""
        selection = record._fields[fname]._description_selection(record.env)
        return dict(selection).get(record[fname]) or ""

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    @api.model
    def _send_digest(self, company, today):
        """Queue the digests of ``company`` (one email per recipient, none for
        a user with nothing to report) and note the day; return the
        ``mail.mail`` queued."""
        self = self.with_company(company)  # noqa: PLW0642 - the digest's company
        data = self._prepare_digest(company, today)
        mails = self.env["mail.mail"]
        sends = (
            (
                "relance_avancee.mail_template_relance_digest",
                [
                    user_id
                    for user_id, values in data["salesperson"].items()
                    if self._has_digest_content(values)
                ],
            ),
            (
                "relance_avancee.mail_template_relance_digest_summary",
                self._get_digest_managers(company).ids
                if self._has_digest_content(data["summary"], SUMMARY_SECTIONS)
                else [],
            ),
        )
        for xmlid, user_ids in sends:
            template = self.env.ref(xmlid, raise_if_not_found=False)
            if not template or not user_ids:
                continue
            mails |= template.with_context(relance_digest=data).send_mail_batch(
                sorted(user_ids)
            )
        # sudo: the day of the last digest is the job's own bookkeeping.
        company.sudo().relance_digest_last_date = today
        _logger.info(
            "Dunning digest of %s: %s email(s) queued.", company.name, len(mails)
        )
        return mails

    @api.model
    def _cron_send_digest(self):
        """Daily: send the digest of each company whose digest day came."""
        # sudo: a system job over every company, whoever triggers it.
        self = self.sudo()  # noqa: PLW0642
        engine = self.env["relance.engine"]
        for company in self.env["res.company"].search(
            [("relance_digest_interval", "!=", "never")]
        ):
            today = fields.Date.context_today(self.with_company(company))
            if not self._is_digest_day(company, today):
                continue
            self._send_digest(company, today)
            if not engine._is_testing():
                # Each company's digest and its day commit together: a failure
                # in the next company never sends this one twice.
                self.env.cr.commit()  # pylint: disable=invalid-commit


def _with_env(value, env):
    """``value`` with every record it holds moved to ``env``."""
    if isinstance(value, models.BaseModel):
        return value.with_env(env)
    if isinstance(value, dict):
        return {key: _with_env(item, env) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_with_env(item, env) for item in value)
    return value
