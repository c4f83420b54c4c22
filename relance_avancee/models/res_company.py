import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

DEFAULT_PROFILE_XMLIDS = (
    "relance_profile_key_account",
    "relance_profile_export",
    "relance_profile_sme",
    "relance_profile_risk",
)


IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")


class ResCompany(models.Model):
    _inherit = "res.company"

    relance_enabled = fields.Boolean(
        string="Dunning batch enabled",
        default=True,
        help="The daily dunning batch serves this company.",
    )
    relance_default_profile_id = fields.Many2one(
        "relance.profile",
        string="Default dunning profile",
        domain="[('company_id', '=', id)]",
        help="Profile of customers that have none of their own.",
    )
    relance_default_collector_id = fields.Many2one(
        "res.users",
        string="Default collector",
        help="Gets the dunning activities of customers without collector or "
        "salesperson.",
    )
    relance_signatory_id = fields.Many2one(
        "res.users",
        string="Signatory of reminders",
        help="Signs the reminders and letters of customers without a collector "
        "(their name, job position, phone and email). Empty: the customer's "
        "collector signs, else the default collector, else the accounts "
        "receivable department.",
    )
    relance_payment_days = fields.Integer(
        string="Days given to pay",
        default=8,
        help="Deadline of a reminder or letter: this many days after its date.",
    )
    relance_formal_notice_days = fields.Integer(
        string="Days given by a formal notice",
        default=15,
        help="Deadline of a formal notice: this many days after its date.",
    )
    relance_min_amount = fields.Monetary(
        string="Minimum amount to remind",
        currency_field="currency_id",
        default=0.0,
        help="Customers whose amount due at a step is below this amount are not "
        "reminded at that step.",
    )
    relance_score_window_days = fields.Integer(
        string="Score window (days)",
        default=365,
        help="The payment-behaviour score looks at invoices due within this many days.",
    )
    relance_batch_size = fields.Integer(
        string="Customers per chunk",
        default=100,
        help="The daily batch serves its customers in chunks of this size: each "
        "chunk is locked, recorded and sent in batch, then committed, so a crash "
        "loses at most one chunk.",
    )
    relance_cron_time_limit = fields.Integer(
        string="Seconds per batch call",
        default=60,
        help="The scheduled batch starts no new chunk after this many seconds: it "
        "commits, reports its progress and returns, and Odoo calls it again until "
        "the day is done. Keep it well under the workers' time limit for crons.",
    )
    relance_indemnity_amount = fields.Monetary(
        string="Recovery indemnity",
        currency_field="currency_id",
        default=40.0,
        help="Fixed indemnity for recovery costs per late invoice (40 € in France, "
        "Code de commerce D441-5).",
    )
    relance_digest_interval = fields.Selection(
        [
            ("daily", "Daily"),
            ("weekly", "Weekly"),
            ("monthly", "Monthly"),
            ("never", "Never"),
        ],
        string="Dunning digest",
        default="weekly",
        required=True,
        help="How often salespeople get the digest of their customers' overdue "
        "amounts and dunning managers the summary. Monthly: on the first day of "
        "the month.",
    )
    relance_digest_weekday = fields.Selection(
        [
            ("0", "Monday"),
            ("1", "Tuesday"),
            ("2", "Wednesday"),
            ("3", "Thursday"),
            ("4", "Friday"),
            ("5", "Saturday"),
            ("6", "Sunday"),
        ],
        string="Digest day",
        default="0",
        required=True,
        help="The day of the week a weekly digest is sent.",
    )
    relance_digest_last_date = fields.Date(
        string="Last digest",
        readonly=True,
        help="When the last digest was sent; the next one reports what happened since.",
    )
    relance_kpi_paid_days = fields.Integer(
        string="KPI: paid within (days)",
        default=15,
        help="Step effectiveness counts the reminded invoices fully paid within "
        "this many days after each step.",
    )

    relance_interest_mode = fields.Selection(
        [
            ("legal", "Legal rate (ECB rate + margin)"),
            ("contractual", "Contractual rate"),
            ("none", "No late interest"),
        ],
        string="Late interest",
        default="legal",
        required=True,
        help="Legal: the ECB rate of the half-year plus the margin (Code de "
        "commerce L441-10). Contractual: the rate of your terms of sale. None: "
        "no late interest is computed.",
    )
    relance_interest_margin = fields.Float(
        string="Margin (points)",
        digits=(16, 2),
        default=10.0,
        help="Points added to the ECB rate for the legal late-payment rate (10 "
        "points in France).",
    )
    relance_interest_rate_contractual = fields.Float(
        string="Contractual rate (%)",
        digits=(16, 2),
        help="The yearly late-payment rate of your terms of sale.",
    )
    relance_fees_account_id = fields.Many2one(
        "account.account",
        string="Late fees account",
        check_company=True,
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Income account of the invoiced recovery indemnities and late "
        "interest. Empty: the default income account of the sales journal.",
    )
    relance_promise_max_days = fields.Integer(
        string="Promises: maximum delay (days)",
        default=30,
        help="A customer promising to pay from the reminder's link may choose a "
        "date at most this many days away, and keep one open promise at a time. "
        "A collector may record any promise.",
    )
    relance_reply_pause_days = fields.Integer(
        string="Pause after a reply (days)",
        default=10,
        help="A customer who replies to a reminder email is not reminded for this "
        "many days, and their collector gets an activity to read the reply. "
        "0: no pause (the activity only).",
    )
    relance_task_reminder_days = fields.Integer(
        string="Remind late tasks after (days)",
        default=3,
        help="A dunning task (a call, a letter, a manual sending) not done this "
        "many days after its deadline is reminded to its responsible, once. "
        "0: never.",
    )
    relance_task_escalation_days = fields.Integer(
        string="Escalate late tasks after (days)",
        default=7,
        help="A dunning task still not done this many days after its reminder "
        "is escalated, once, to the customer's collector or a dunning manager "
        "with an activity. 0: never.",
    )
    relance_portal_link_days = fields.Integer(
        string="Self-service links valid for (days)",
        default=60,
        help="How long the link in a reminder email lets the customer see the "
        "invoices it claims, pay them, promise a payment date or contest one, "
        "counted from the sending.",
    )

    @api.constrains("relance_default_profile_id")
    def _check_relance_default_profile(self):
        for company in self:
            company.relance_default_profile_id._check_used_in_company(company)

    @api.constrains(
        "relance_reply_pause_days",
        "relance_task_reminder_days",
        "relance_task_escalation_days",
    )
    def _check_relance_task_days(self):
        for company in self:
            if (
                min(
                    company.relance_reply_pause_days,
                    company.relance_task_reminder_days,
                    company.relance_task_escalation_days,
                )
                < 0
            ):
                raise ValidationError(
                    _(
                        "The pause after a reply and the delays before reminding "
                        "or escalating a late task are numbers of days: 0 or more."
                    )
                )

    @api.constrains("relance_portal_link_days")
    def _check_relance_portal_link_days(self):
        for company in self:
            if company.relance_portal_link_days < 1:
                raise ValidationError(
                    _(
                        "The reminders' self-service links must be valid for at "
                        "least a day."
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._relance_install_default_profiles()
        return companies

    def _relance_get_chunk_size(self):
        """How many customers the batch serves per chunk (at least one)."""
        self.ensure_one()
        return max(self.relance_batch_size or 100, 1)

    def _relance_get_interest_rate(self, day, table=None):
        """The yearly late-payment rate of this company on ``day``.

        Legal mode: the ECB rate of the half-year of ``day`` plus the margin;
        a half-year without its rate uses the latest known rate, marked
        ``provisional``. Contractual mode: the company's rate. None: 0.

        :param table: ``relance.interest.rate._get_rate_table()``, to read the
            table once for many calls
        :return: ``{"rate": %, "ecb_rate": % or False, "provisional": bool}``
        :raise UserError: legal mode and an empty rate table
        """
        self.ensure_one()
        mode = self.relance_interest_mode
        if mode == "none":
            return {"rate": 0.0, "ecb_rate": False, "provisional": False}
        if mode == "contractual":
            return {
                "rate": self.relance_interest_rate_contractual,
                "ecb_rate": False,
                "provisional": False,
            }
        Rate = self.env["relance.interest.rate"]
        if table is None:
            table = Rate._get_rate_table()
        ecb_rate, provisional = Rate._get_rate_from_table(table, day)
        return {
            "rate": ecb_rate + self.relance_interest_margin,
            "ecb_rate": ecb_rate,
            "provisional": provisional,
        }

    def _relance_install_default_profiles(self):
        """Give each company without profile its own copy of the shipped
        profiles (profiles are company-specific), the small-business profile
        being its default."""
        # sudo: whoever creates a company gets its shipped profiles, even
        # without the Dunning manager group; only copies of shipped data.
        Profile = self.env["relance.profile"].sudo()
        for company in self:
            if Profile.search_count([("company_id", "=", company.id)], limit=1):
                continue
            default_profile = Profile
            for xmlid in DEFAULT_PROFILE_XMLIDS:
                source = self.env.ref(
                    f"relance_avancee.{xmlid}", raise_if_not_found=False
                )
                if not source:
                    continue
                # sudo: the shipped profiles belong to the main company, which
                # the user creating a company may not see; they are only copied.
                source = source.sudo()
                profile = source.with_context(relance_keep_name=True).copy(
                    {
                        "company_id": company.id,
                        "use_score_range": source.use_score_range,
                        "source_id": source.id,
                    }
                )
                # A step is unique per delay and channel in its profile.
                shipped = {(lvl.delay, lvl.channel): lvl for lvl in source.level_ids}
                for level in profile.level_ids:
                    level.source_id = shipped.get((level.delay, level.channel))
                if xmlid == "relance_profile_sme":
                    default_profile = profile
            # sudo: the default profile just created, on the new company.
            company.sudo().relance_default_profile_id = default_profile

    def _relance_get_bank_account(self):
        """The bank account reminders and letters ask to pay to."""
        self.ensure_one()
        return self.partner_id.bank_ids[:1]

    def _relance_get_bank_details(self):
        """That account as one line of text, ``IBAN …, BIC … (bank)``, only
        with what is known; empty without an account."""
        self.ensure_one()
        bank = self._relance_get_bank_account()
        if not bank:
            return ""
        # An IBAN (two letters, two check digits) whether or not base_iban
        # validated it.
        if bank.acc_type == "iban" or IBAN_RE.match(bank.sanitized_acc_number or ""):
            text = _("IBAN %s", bank.acc_number)
        else:
            text = _("account %s", bank.acc_number)
        if bank.bank_bic:
            text = _("%(iban)s, BIC %(bic)s", iban=text, bic=bank.bank_bic)
        if bank.bank_name:
            text = f"{text} ({bank.bank_name})"
        return text

    def _relance_get_signature_lines(self, signatory):
        """The signature of reminders and letters, in the current language:
        the signatory's name and job position (else the accounts receivable
        department), the company, a phone and an email to reach them."""
        self.ensure_one()
        if signatory:
            function = signatory.partner_id.function
            name = f"{signatory.name}, {function}" if function else signatory.name
        else:
            name = _("Accounts receivable department")
        phone = (signatory and signatory.phone) or self.phone
        email = (signatory and signatory.email) or self.email
        contact = " – ".join(value for value in (phone, email) if value)
        return [line for line in (name, self.name, contact) if line]
