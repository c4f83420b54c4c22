"""Values of the dunning letters and formal notices (QWeb PDF reports).

A letter printed from a dunning communication (the print queue) and a letter
printed from a customer record are the same document,
``relance_avancee.relance_letter_document``: the report models below only
differ in where the invoices, the step and the contact person come from.

Everything is prepared here as plain values (records, dates, amounts, lists of
strings); the tables and paragraphs are built in QWeb, never as HTML in Python.
"""

from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date, formatLang

LETTER_CHANNELS = ("letter", "formal_notice")


class RelanceLetterReportMixin(models.AbstractModel):
    """What the four dunning letter reports share."""

    _name = "relance.letter.report.mixin"
    _description = "Dunning letter report (shared values)"

    # The model of the records printed.
    _relance_doc_model = "res.partner"
    # Days the customer is given to pay from the date of the letter.
    _relance_deadline_days_letter = 8
    _relance_deadline_days_formal_notice = 15

    # ------------------------------------------------------------------
    # Hooks of the concrete reports
    # ------------------------------------------------------------------

    def _is_formal_notice(self):
        """True for the formal notice (mise en demeure) reports."""
        return False

    def _get_letters(self, docs):
        """One dict of letter values per record to print (see
        :meth:`_prepare_letter`)."""
        raise NotImplementedError()

    # ------------------------------------------------------------------
    # Report entry point
    # ------------------------------------------------------------------

    @api.model
    def _get_report_values(self, docids, data=None):
        docs = self.env[self._relance_doc_model].browse(docids)
        self._check_can_print(docs)
        return {
            "doc_ids": docids,
            "doc_model": self._relance_doc_model,
            "docs": docs,
            "letters": self._get_letters(docs),
        }

    def _check_can_print(self, docs):
        """A letter tells a customer's receivables: printed only by who may
        read them, whatever the route (menu, /report URL, RPC)."""
        docs.check_access("read")
        if self._relance_doc_model != "res.partner":
            return
        hidden = docs - docs._relance_filter_visible()
        if hidden:
            raise AccessError(
                _(
                    "You may not print the dunning letters of %s: only its "
                    "salesperson and the accounting team see its receivables.",
                    ", ".join(hidden.mapped("display_name")),
                )
            )

    # ------------------------------------------------------------------
    # Shared helpers
    # ------------------------------------------------------------------

    def _get_deadline_days(self, formal_notice, company):
        """Days given to pay, from the company's settings (8 for a reminder
        letter, 15 for a formal notice by default)."""
        if formal_notice:
            return (
                company.relance_formal_notice_days
                or self._relance_deadline_days_formal_notice
            )
        return company.relance_payment_days or self._relance_deadline_days_letter

    def _has_previous_reminders(self, moves, date, exclude=None):
        """Whether a reminder was already sent for one of ``moves`` on or
        before ``date`` (other than the communication ``exclude``): the
        letter's wording then speaks of previous reminders."""
        domain = [
            ("move_id", "in", moves.ids),
            ("kind", "=", "reminder"),
            ("state", "=", "sent"),
            ("date", "<=", date),
        ]
        if exclude:
            domain.append(("communication_id", "not in", exclude.ids))
        return bool(self.env["relance.history"].search_count(domain, limit=1))

    def _indemnity_applies(self, partner, level, formal_notice):
        """Whether the letter claims the fixed indemnity for recovery costs.

        The step decides (``apply_indemnity``), a formal notice always claims
        it; Code de commerce D441-5 only applies to business debtors, so a
        consumer (a person with no VAT number) is never charged it.
        """
        commercial = partner.commercial_partner_id
        if not (commercial.is_company or commercial.vat):
            return False
        return formal_notice or bool(level.apply_indemnity)

    def _get_document_lang(self, partner, recipient, company):
        """One language for a whole document: the customer's (a billing
        contact created without one must not turn a French customer's letter
        English), else the recipient's, else the company's."""
        return (
            partner.lang or recipient.lang or company.partner_id.lang or self.env.lang
        )

    def _prepare_letterhead(self, record, company, partner, recipient, lang):
        """The values every document of ours shares: our company's details
        and the recipient's window address, in ``lang``."""
        company_partner = company.partner_id.with_context(lang=lang)
        return {
            "record": record,
            "lang": lang,
            "company": company,
            "company_address": self._get_address_lines(company_partner),
            "registry_label": (
                "SIRET"
                if company.country_id.code == "FR"
                else company_partner.company_registry_label
            ),
            "vat_label": company.country_id.vat_label or _("VAT"),
            "partner": partner,
            "recipient": recipient,
            "recipient_block": self._get_recipient_block(partner, recipient, company),
        }

    def _get_address_lines(self, partner, with_country=True):
        """The postal address of ``partner`` as a list of non-empty lines,
        in its country's format."""
        address_format, args = partner._prepare_display_address(without_company=True)
        if not with_country:
            args["country_name"] = ""
        return [
            line.strip() for line in (address_format % args).split("\n") if line.strip()
        ]

    def _get_recipient_block(self, partner, recipient, company):
        """Lines of the address block of a window envelope: the customer's
        name, the billing contact when it is a person of its own, then the
        billing address (no country line for a domestic letter)."""
        commercial = partner.commercial_partner_id
        lines = [commercial.name or ""]
        if (
            recipient != commercial
            and recipient.name
            and recipient.name != commercial.name
        ):
            lines.append(recipient.name)
        address = recipient if recipient.street or recipient.city else commercial
        domestic = address.country_id and address.country_id == company.country_id
        lines += self._get_address_lines(address, with_country=not domestic)
        return [line for line in lines if line]

    def _get_contact_user(self, partner, company, user=None):
        """Who signs the letter and whom the customer should contact: the
        communication's signatory when given, else the customer's collector,
        else the company's signatory, else its default collector; empty: the
        accounts receivable department."""
        if user:
            return user
        partner = partner.commercial_partner_id.with_company(company)
        return (
            partner.relance_collector_id
            or company.relance_signatory_id
            or company.relance_default_collector_id
        )

    def _get_totals(self, lines):
        """Totals per currency: ``[{currency, amount_total, residual}]``."""
        totals = {}
        for line in lines:
            total = totals.setdefault(
                line["currency"],
                {"currency": line["currency"], "amount_total": 0.0, "residual": 0.0},
            )
            total["amount_total"] += line["amount_total"]
            total["residual"] += line["residual"]
        return list(totals.values())

    def _prepare_letter(
        self,
        record,
        partner,
        company,
        level,
        lines,
        date,
        user=None,
        credits=None,
        recipient=None,
        follow_up=False,
        registered_number=False,
    ):
        """The values of one letter.

        :param record: the record printed (``relance.communication`` or
            ``res.partner``), for the report's ``data-oe-*`` attributes
        :param partner: the customer (commercial partner)
        :param recipient: who the letter is addressed to; default: the
            customer's billing contact
        :param lines: ``[{move, name, invoice_date, due_date, days_overdue,
            amount_total, residual, currency, payment_reference}]``
        :param credits: ``{currency: amount}`` of unallocated payments and
            credit notes deducted from the amount claimed
        :param follow_up: a reminder was already sent for these invoices
        :param registered_number: the registered letter's number (formal notice)
        """
        formal_notice = self._is_formal_notice()
        recipient = recipient or partner._relance_get_recipient()
        lang = self._get_document_lang(partner, recipient, company)
        # Records and texts in the letter's language: translated step names,
        # payment terms, country names and the labels made here with _().
        self = self.with_context(lang=lang)  # noqa: PLW0642
        recipient = recipient.with_context(lang=lang)
        partner = partner.with_context(lang=lang)
        company = company.with_context(lang=lang)
        level = level.with_context(lang=lang)
        lines = [
            dict(line, move=line["move"].with_context(lang=lang)) for line in lines
        ]
        totals = self._get_totals(lines)

        # Late interest (Code de commerce L441-10) when the step claims the
        # legal penalties, per invoice, from the company's rate table.
        claims_penalties = formal_notice or bool(level.apply_indemnity)
        interest = {}
        rates = []
        provisional = False
        if claims_penalties and company.relance_interest_mode != "none":
            moves = self.env["account.move"].union(*(line["move"] for line in lines))
            fees = moves._relance_get_late_fees(date)
            for line in lines:
                values = fees.get(line["move"].id) or {}
                line["interest"] = values.get("interest", 0.0)
                if line["interest"]:
                    interest[line["currency"]] = (
                        interest.get(line["currency"], 0.0) + line["interest"]
                    )
                for period in values.get("rate_periods", []):
                    if period["rate"] not in rates:
                        rates.append(period["rate"])
                provisional = provisional or values.get("provisional", False)
        apply_indemnity = self._indemnity_applies(partner, level, formal_notice)
        late_count = sum(1 for line in lines if line["days_overdue"] > 0)
        indemnity_count = late_count if apply_indemnity else 0
        indemnity_unit = company.relance_indemnity_amount or 0.0
        indemnity_amount = company.currency_id.round(indemnity_unit * indemnity_count)
        if not indemnity_amount:
            apply_indemnity = False

        credits = {
            currency: amount for currency, amount in (credits or {}).items() if amount
        }
        claimed = {total["currency"]: total["residual"] for total in totals}
        for currency, amount in credits.items():
            claimed[currency] = claimed.get(currency, 0.0) - amount
        if apply_indemnity:
            claimed[company.currency_id] = (
                claimed.get(company.currency_id, 0.0) + indemnity_amount
            )
        for currency, amount in interest.items():
            claimed[currency] = claimed.get(currency, 0.0) + currency.round(amount)

        deadline_days = self._get_deadline_days(formal_notice, company)
        payment_terms = list(
            dict.fromkeys(
                line["move"].invoice_payment_term_id.name
                for line in lines
                if line["move"].invoice_payment_term_id
            )
        )
        user = self._get_contact_user(partner, company, user)
        return {
            **self._prepare_letterhead(record, company, partner, recipient, lang),
            "level": level,
            "tone": "firm" if formal_notice else (level.tone or "neutral"),
            "formal_notice": formal_notice,
            "date": date,
            "deadline": date + timedelta(days=deadline_days),
            "deadline_days": deadline_days,
            "lines": lines,
            "totals": totals,
            "credits": [
                {"currency": currency, "amount": amount}
                for currency, amount in credits.items()
            ],
            "apply_indemnity": apply_indemnity,
            "indemnity_count": indemnity_count,
            "indemnity_unit": indemnity_unit,
            "indemnity_amount": indemnity_amount,
            "indemnity_currency": company.currency_id,
            "interest": [
                {"currency": currency, "amount": currency.round(amount)}
                for currency, amount in interest.items()
            ],
            "interest_label": rates
            and _(
                "Late-payment interest (French Commercial Code, art. L441-10) at "
                "%(rates)s a year, from the day after each due date to %(date)s",
                rates=" / ".join(f"{formatLang(self.env, rate)} %" for rate in rates),
                date=format_date(self.env, date, date_format="long"),
            ),
            "interest_provisional": provisional,
            "claimed": [
                {"currency": currency, "amount": amount}
                for currency, amount in claimed.items()
            ],
            "user": user.with_context(lang=lang) if user else user,
            "payment_references": list(
                dict.fromkeys(
                    line["payment_reference"]
                    for line in lines
                    if line["payment_reference"]
                )
            ),
            "payment_terms": payment_terms,
            "bank": company._relance_get_bank_account(),
            "bank_details": company.with_context(lang=lang)._relance_get_bank_details(),
            "follow_up": follow_up,
            "ultimatum": not formal_notice and bool(level.ultimatum),
            "registered_number": registered_number,
            "show_logo": bool(company.logo) and not company.uses_default_logo,
        }


class ReportRelanceCommunicationLetter(models.AbstractModel):
    """Letter of a dunning communication of the print queue."""

    _name = "report.relance_avancee.report_relance_communication_letter"
    _inherit = "relance.letter.report.mixin"
    _description = "Dunning letter of a communication"
    _relance_doc_model = "relance.communication"

    def _get_letters(self, docs):
        comms = docs
        wrong = comms.filtered(lambda c: c.channel not in LETTER_CHANNELS)
        if wrong:
            raise UserError(
                _(
                    "Only letters and formal notices can be printed; these "
                    "communications are not: %s",
                    ", ".join(wrong.mapped("display_name")),
                )
            )
        cancelled = comms.filtered(lambda c: c.state == "cancelled")
        if cancelled:
            raise UserError(
                _(
                    "A cancelled letter cannot be printed: %s",
                    ", ".join(cancelled.mapped("display_name")),
                )
            )
        letters = []
        for comm in comms:
            rows = comm._get_lines()
            if not rows:
                raise UserError(
                    _("The letter %s lists no invoice to claim.", comm.display_name)
                )
            # The date the letter was sent (a reprint keeps it), else today.
            if comm.sent_date:
                date = fields.Date.context_today(self, comm.sent_date)
            else:
                date = fields.Date.context_today(self)
            lines = [
                {
                    "move": row.move_id,
                    "name": row.move_id.name,
                    "invoice_date": row.move_id.invoice_date,
                    "due_date": row.due_date,
                    "days_overdue": max((date - row.due_date).days, 0)
                    if row.due_date
                    else 0,
                    "amount_total": row.move_id.amount_total,
                    # First print: what is due now (partial payments since the
                    # batch deducted); a reprint shows what the letter claimed.
                    "residual": row.move_id.amount_residual
                    if comm.state == "todo"
                    else row.amount_residual,
                    "currency": row.currency_id or comm.company_id.currency_id,
                    "payment_reference": row.move_id.payment_reference
                    or row.move_id.name,
                }
                for row in rows
            ]
            letters.append(
                self._prepare_letter(
                    comm,
                    comm.partner_id.commercial_partner_id,
                    comm.company_id,
                    comm.level_id,
                    lines,
                    date,
                    user=comm.signatory_id,
                    recipient=comm.recipient_id,
                    follow_up=comm.follow_up,
                    registered_number=comm.registered_number,
                )
            )
        return letters


class ReportRelanceCommunicationFormalNotice(models.AbstractModel):
    """Formal notice of a dunning communication of the print queue."""

    _name = "report.relance_avancee.report_relance_communication_formal_notice"
    _inherit = "report.relance_avancee.report_relance_communication_letter"
    _description = "Formal notice of a communication"
    # The name derived from _name exceeds PostgreSQL's 63 characters (the
    # model is abstract: no table is created, but the name is checked).
    _table = "report_relance_comm_formal_notice"

    def _is_formal_notice(self):
        return True


class ReportRelanceLetter(models.AbstractModel):
    """The customer's reminder letter at its current step, printed from the
    customer: its overdue invoices in the current company."""

    _name = "report.relance_avancee.report_relance_letter"
    _inherit = "relance.letter.report.mixin"
    _description = "Dunning letter of a customer"

    def _get_letters(self, docs):
        company = self.env.company
        today = fields.Date.context_today(self)
        records = docs
        customers = records.commercial_partner_id
        lines_by_partner, credits_by_partner, credit_totals = self._read_overdue_lines(
            company, customers, today
        )
        missing = customers.filtered(lambda p: not lines_by_partner.get(p.id))
        if missing:
            raise UserError(
                _(
                    "No overdue invoice to remind in %(company)s for: %(partners)s.",
                    company=company.name,
                    partners=", ".join(missing.mapped("display_name")),
                )
            )
        # Reminding a customer whose unallocated payments or credit notes
        # cover what it owes destroys our credibility: reconcile first.
        planner = self.env["relance.planner"]
        covered = customers.filtered(
            lambda p: planner._is_covered(
                company,
                credit_totals.get(p.id, 0.0),
                sum(line["residual_company"] for line in lines_by_partner[p.id]),
            )
        )
        if covered:
            raise UserError(
                _(
                    "The payments or credit notes not yet reconciled of %s cover "
                    "their overdue invoices: reconcile them before sending a reminder.",
                    ", ".join(covered.mapped("display_name")),
                )
            )
        levels = self._get_current_levels(company, customers, today)
        return [
            self._prepare_letter(
                record,
                record.commercial_partner_id,
                company,
                levels.get(record.commercial_partner_id.id)
                or self.env["relance.level"],
                lines_by_partner[record.commercial_partner_id.id],
                today,
                credits=credits_by_partner.get(record.commercial_partner_id.id),
                follow_up=self._has_previous_reminders(
                    self.env["account.move"].union(
                        *(
                            line["move"]
                            for line in lines_by_partner[
                                record.commercial_partner_id.id
                            ]
                        )
                    ),
                    today,
                ),
            )
            for record in records
        ]

    @api.model
    def _read_overdue_lines(self, company, customers, today):
        """The overdue receivable invoices of ``customers`` in ``company`` (not
        in dispute) and their unallocated credits, as the dunning planner reads
        them (one grouped query): the letter claims what the emails claim.

        :return: ``(lines, credits, credit_totals)``: ``{partner_id: [line
            values]}``, ``{partner_id: {currency: amount}}`` and
            ``{partner_id: amount in company currency}``
        """
        planner = self.env["relance.planner"]
        moves, credit_totals, credits_by_currency = planner._read_open_receivables(
            company, customers.ids
        )
        overdue = {
            move_id: move
            for move_id, move in moves.items()
            if move["due"] and move["due"] < today and not move["in_dispute"]
        }
        records = self.env["account.move"].browse(sorted(overdue))
        currencies = self.env["res.currency"].browse(
            {cid for by_cur in credits_by_currency.values() for cid in by_cur}
            | {move["currency_id"] for move in overdue.values() if move["currency_id"]}
        )
        lines_by_partner = defaultdict(list)
        for record in records:
            move = overdue[record.id]
            lines_by_partner[move["partner_id"]].append(
                {
                    "move": record,
                    "name": record.name,
                    "invoice_date": record.invoice_date or record.date,
                    "due_date": move["due"],
                    "days_overdue": (today - move["due"]).days,
                    "amount_total": record.amount_total,
                    "residual": move["residual_currency"],
                    "residual_company": move["residual"],
                    "currency": currencies.browse(move["currency_id"])
                    or company.currency_id,
                    "payment_reference": record.payment_reference or record.name,
                }
            )
        for lines in lines_by_partner.values():
            lines.sort(key=lambda line: (line["due_date"], line["name"] or ""))
        credits = {
            partner_id: {
                currencies.browse(currency_id): amount
                for currency_id, amount in by_currency.items()
            }
            for partner_id, by_currency in credits_by_currency.items()
        }
        return lines_by_partner, credits, credit_totals

    @api.model
    def _get_current_levels(self, company, customers, today):
        """The step of each customer's letter: the step of its last sent
        reminder, else its next planned step, else its profile's first letter
        step. ``{partner_id: relance.level}``"""
        rows = self.env["relance.history"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "in", customers.ids),
                ("kind", "=", "reminder"),
                ("state", "=", "sent"),
                ("level_id", "!=", False),
            ],
            order="date desc, id desc",
        )
        levels = {}
        for row in rows:
            levels.setdefault(row.partner_id.id, row.level_id)
        pending = customers.filtered(lambda p: p.id not in levels)
        if pending:
            plans = self.env["relance.planner"]._plan(
                company, today, partner_ids=pending.ids
            )
            next_plans = {}
            for plan in plans:
                if not plan.levels or plan.levels[0].delay < 0:
                    continue
                best = next_plans.get(plan.partner_id)
                if best is None or plan.planned_date < best.planned_date:
                    next_plans[plan.partner_id] = plan
            for partner_id, plan in next_plans.items():
                levels[partner_id] = plan.levels[0]
        for partner in customers.filtered(lambda p: p.id not in levels):
            profile = partner._relance_get_profile(company)
            letter_levels = (
                profile._get_sorted_levels().filtered(
                    lambda lvl: lvl.channel == "letter"
                )
                if profile
                else self.env["relance.level"]
            )
            levels[partner.id] = letter_levels[:1]
        return levels


class ReportRelanceFormalNotice(models.AbstractModel):
    """The customer's formal notice, printed from the customer: it always
    claims the recovery indemnity."""

    _name = "report.relance_avancee.report_formal_notice"
    _inherit = "report.relance_avancee.report_relance_letter"
    _description = "Formal notice of a customer"

    def _is_formal_notice(self):
        return True

    @api.model
    def _get_current_levels(self, company, customers, today):
        """The formal notice step of each customer's profile, if any."""
        levels = {}
        for partner in customers:
            profile = partner._relance_get_profile(company)
            levels[partner.id] = (
                profile._get_sorted_levels().filtered(
                    lambda lvl: lvl.channel == "formal_notice"
                )[:1]
                if profile
                else self.env["relance.level"]
            )
        return levels
