from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("letter", "Letter"),
    ("phone", "Phone call"),
    ("formal_notice", "Formal notice"),
]
TONES = [("positive", "Positive"), ("neutral", "Neutral"), ("firm", "Firm")]


class RelanceLevel(models.Model):
    """One step of a risk profile's dunning scenario."""

    _name = "relance.level"
    _description = "Dunning level (scenario step)"
    _order = "profile_id, sequence, delay, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    profile_id = fields.Many2one(
        "relance.profile",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(
        related="profile_id.company_id", store=True, index=True, precompute=True
    )
    delay = fields.Integer(
        required=True,
        aggregator=None,  # a sum of delays means nothing
        help="Days from the due date: negative for a courtesy notice before it.",
    )
    channel = fields.Selection(
        CHANNELS,
        required=True,
        default="email",
        help="How the step reaches the customer.",
    )
    tone = fields.Selection(
        TONES,
        required=True,
        default="neutral",
        help="The wording of the step, from friendly to firm.",
    )
    auto = fields.Boolean(
        string="Sent by the batch",
        default=True,
        help="Checked: the daily batch sends this step. Unchecked: the batch "
        "schedules an activity for the responsible person, who sends it.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email template",
        domain=[("model", "=", "relance.communication")],
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS template",
        domain=[("model", "=", "relance.communication")],
    )
    report_id = fields.Many2one(
        "ir.actions.report",
        string="Letter",
        domain=[("model", "=", "relance.communication")],
        help="The printed document of a letter or formal notice step.",
    )
    attach_invoice_pdf = fields.Boolean(
        string="Attach invoice PDFs",
        help="Attach each listed invoice's PDF to the email. The PDF Odoo keeps "
        "on the invoice (Send & Print) is reused; a missing one is rendered once, "
        "before the batch locks anything, and kept on the invoice. Unchecked, the "
        "email links each invoice to the customer portal, where the customer can "
        "view, download and pay it.",
    )
    attach_statement = fields.Boolean(
        string="Attach the customer statement",
        help="Attach the customer's statement of account (every open item, "
        "with its ageing) to the email, as a PDF rendered when the email is "
        "sent. If it cannot be rendered, the email goes without it and the "
        "history says so.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Activity type",
        help="Type of the activity scheduled for a phone call or a manual step.",
    )
    responsible = fields.Selection(
        [
            ("salesperson", "The customer's salesperson"),
            ("collector", "The customer's collector"),
            ("user", "A named user"),
        ],
        default="collector",
        required=True,
        help="Who receives the activity of a phone call or a manual step. Falls "
        "back to the collector, then to the user running the batch.",
    )
    responsible_user_id = fields.Many2one("res.users", string="Named user")
    apply_indemnity = fields.Boolean(
        string="Recovery indemnity",
        help="The letter claims the fixed indemnity for recovery costs "
        "(40 € per late invoice in France, Code de commerce D441-5).",
    )
    ultimatum = fields.Boolean(
        string="Last notice before escalation",
        help="The last amicable step: the email or letter states its deadline "
        "and what follows it (a formal notice, then legal action or a "
        "collection agency).",
    )
    source_id = fields.Many2one(
        "relance.level",
        string="Shipped step",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The shipped step this company's step was copied from.",
    )
    is_courtesy = fields.Boolean(compute="_compute_is_courtesy")
    instructions = fields.Html(
        translate=True,
        help="What the responsible person should do at this step.",
    )

    @api.depends("delay")
    def _compute_is_courtesy(self):
        for level in self:
            level.is_courtesy = level.delay < 0

    @api.depends("name", "delay")
    def _compute_display_name(self):
        for level in self:
            level.display_name = _(
                "%(name)s (D%(delay)+d)", name=level.name or "", delay=level.delay
            )

    @api.constrains("channel", "mail_template_id", "sms_template_id", "report_id")
    def _check_template(self):
        for level in self:
            missing = {
                "email": not level.mail_template_id and _("an email template"),
                "sms": not level.sms_template_id and _("an SMS template"),
                "letter": not level.report_id and _("a letter report"),
                "formal_notice": not level.report_id and _("a letter report"),
            }.get(level.channel)
            if missing:
                raise ValidationError(
                    _(
                        "Step %(level)s of profile %(profile)s is sent by "
                        "%(channel)s: it needs %(what)s.",
                        level=level.name,
                        profile=level.profile_id.display_name,
                        channel=level._get_channel_label(),
                        what=missing,
                    )
                )

    @api.constrains("profile_id", "delay", "channel")
    def _check_unique_step(self):
        for level in self:
            duplicate = self.search_count(
                [
                    ("id", "!=", level.id),
                    ("profile_id", "=", level.profile_id.id),
                    ("delay", "=", level.delay),
                    ("channel", "=", level.channel),
                ],
                limit=1,
            )
            if duplicate:
                raise ValidationError(
                    _(
                        "Profile %(profile)s already has a %(channel)s step at "
                        "D%(delay)+d: two steps of one scenario cannot share a delay "
                        "and a channel.",
                        profile=level.profile_id.display_name,
                        channel=level._get_channel_label(),
                        delay=level.delay,
                    )
                )

    @api.constrains("responsible", "responsible_user_id")
    def _check_responsible_user(self):
        for level in self:
            if level.responsible == "user" and not level.responsible_user_id:
                raise ValidationError(
                    _(
                        "Step %s is assigned to a named user: choose the user.",
                        level.name,
                    )
                )

    def _get_channel_label(self):
        self.ensure_one()
        selection = self._fields["channel"]._description_selection(self.env)
        return dict(selection)[self.channel]

    def _is_manual(self):
        """True when this step is a task for a person rather than a sending."""
        self.ensure_one()
        return self.channel == "phone" or not self.auto or self.profile_id.manual

    def _get_responsible_user(self, partner):
        """The user who gets this step's activity for ``partner``."""
        self.ensure_one()
        company = self.company_id
        partner = partner.with_company(company)
        candidates = {
            "salesperson": [partner.user_id, partner.relance_collector_id],
            "collector": [partner.relance_collector_id, partner.user_id],
            "user": [self.responsible_user_id, partner.relance_collector_id],
        }[self.responsible]
        candidates.append(company.relance_default_collector_id)
        for user in candidates:
            if user and user.active and company in user.company_ids:
                return user
        return self.env.user
