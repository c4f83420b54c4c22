from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class RelanceProfile(models.Model):
    """A risk profile: a class of customers sharing one dunning scenario."""

    _name = "relance.profile"
    _description = "Dunning risk profile"
    _inherit = ["mail.thread"]
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
    )
    description = fields.Text(translate=True)
    color = fields.Integer()
    level_ids = fields.One2many(
        "relance.level",
        "profile_id",
        string="Scenario",
        copy=True,
        help="The ordered steps of this profile's dunning scenario.",
    )
    level_count = fields.Integer(compute="_compute_level_count")
    manual = fields.Boolean(
        string="Every step is a task",
        tracking=True,
        help="Key accounts: every step of the scenario becomes a scheduled activity "
        "for a person instead of being sent by the batch.",
    )
    use_score_range = fields.Boolean(
        string="Automatic assignment by score",
        tracking=True,
        help="Customers with automatic assignment move to this profile when their "
        "payment-behaviour score lies within the range.",
    )
    score_min = fields.Integer(string="Score from", default=0, tracking=True)
    score_max = fields.Integer(string="Score to", default=100, tracking=True)
    thank_you = fields.Selection(
        [
            ("none", "Never"),
            ("reminded", "After payment of a reminded invoice"),
            ("all", "After payment of any invoice"),
        ],
        string="Thank-you message",
        default="reminded",
        required=True,
        tracking=True,
    )
    thank_you_template_id = fields.Many2one(
        "mail.template",
        string="Thank-you template",
        domain=[("model", "=", "relance.communication")],
    )
    partner_count = fields.Integer(compute="_compute_partner_count")
    source_id = fields.Many2one(
        "relance.profile",
        string="Shipped profile",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The shipped profile this company's profile was copied from: its "
        "translations follow the shipped one's while the name is unchanged.",
    )
    invoice_late_fees = fields.Boolean(
        string="Invoice late fees",
        tracking=True,
        help="At the formal notice, the recovery indemnity and the late interest "
        "of each late invoice are invoiced to the customer, once per invoice.",
    )

    _sql_constraints = [
        (
            "score_range_valid",
            "CHECK(score_min >= 0 AND score_max <= 100 AND score_min <= score_max)",
            "A score range must lie within 0 and 100, its lower bound first.",
        ),
    ]

    @api.depends("level_ids")
    def _compute_level_count(self):
        for profile in self:
            profile.level_count = len(profile.level_ids)

    def _compute_partner_count(self):
        counts = {}
        for company in self.company_id:
            profiles = self.filtered(lambda p, c=company: p.company_id == c)
            groups = (
                self.env["res.partner"]
                .with_company(company)
                ._read_group(
                    [("relance_profile_id", "in", profiles.ids)],
                    ["relance_profile_id"],
                    ["__count"],
                )
            )
            counts.update({profile.id: count for profile, count in groups})
        for profile in self:
            profile.partner_count = counts.get(profile.id, 0)

    @api.constrains("score_min", "score_max", "use_score_range", "company_id", "active")
    def _check_score_range(self):
        for profile in self.filtered("use_score_range"):
            if not 0 <= profile.score_min <= profile.score_max <= 100:
                raise ValidationError(
                    _(
                        "The score range of profile %(profile)s must lie within 0 and "
                        "100, its lower bound first.",
                        profile=profile.display_name,
                    )
                )
            overlapping = self.search(
                [
                    ("id", "!=", profile.id),
                    ("company_id", "=", profile.company_id.id),
                    ("use_score_range", "=", True),
                    ("score_min", "<=", profile.score_max),
                    ("score_max", ">=", profile.score_min),
                ],
                limit=1,
            )
            if overlapping:
                raise ValidationError(
                    _(
                        "The score range %(min)s–%(max)s of profile %(profile)s "
                        "overlaps the range of profile %(other)s.",
                        min=profile.score_min,
                        max=profile.score_max,
                        profile=profile.display_name,
                        other=overlapping.display_name,
                    )
                )

    def _check_used_in_company(self, company):
        """Refuse these profiles in ``company`` when they belong to another."""
        for profile in self:
            if profile.company_id != company:
                raise ValidationError(
                    _(
                        "The dunning profile %(profile)s belongs to %(other)s: it "
                        "cannot be used in %(company)s.",
                        profile=profile.display_name,
                        other=profile.company_id.name,
                        company=company.name,
                    )
                )

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        default = default or {}
        for profile, vals in zip(self, vals_list, strict=True):
            if "name" not in default and not self.env.context.get("relance_keep_name"):
                vals["name"] = _("%s (copy)", profile.name)
            if "use_score_range" not in default:
                # Two profiles cannot share a score range: the copy starts outside.
                vals["use_score_range"] = False
        return vals_list

    @api.model
    def _relance_sync_translations(self, langs):
        """Give the company copies of the shipped profiles and steps the
        translations their source just received (French loaded after the
        companies were created): only for the texts the company kept as
        shipped, never over a text it changed."""
        # sudo: run when a language is loaded (by an administrator), over the
        # profiles of every company; only untouched shipped texts are copied.
        copies = (
            self.sudo()
            .with_context(active_test=False)
            .search([("source_id", "!=", False)])
        )
        records = [(copies, ("name", "description"))]
        levels = copies.level_ids.filtered("source_id")
        records.append((levels, ("name", "instructions")))
        for recs, fnames in records:
            for rec in recs:
                source = rec.source_id
                for fname in fnames:
                    shipped = source.with_context(lang="en_US")[fname]
                    if not shipped or rec.with_context(lang="en_US")[fname] != shipped:
                        continue
                    translations = {
                        lang: source.with_context(lang=lang)[fname]
                        for lang in langs
                        if source.with_context(lang=lang)[fname] != shipped
                    }
                    if translations:
                        rec.update_field_translations(fname, translations)

    def action_view_partners(self):
        """Open the customers assigned to this profile."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Customers of %s", self.display_name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("relance_profile_id", "=", self.id)],
            "context": {"default_relance_profile_id": self.id},
        }

    @api.model
    def _get_profile_for_score(self, score, company):
        """Return the active profile of ``company`` whose range holds ``score``."""
        return self.search(
            [
                ("company_id", "=", company.id),
                ("use_score_range", "=", True),
                ("score_min", "<=", score),
                ("score_max", ">=", score),
            ],
            limit=1,
        )

    def _get_sorted_levels(self):
        """The scenario's levels in the order they are sent."""
        self.ensure_one()
        return self.level_ids.filtered("active").sorted(
            lambda lvl: (lvl.delay, lvl.sequence, lvl.id)
        )
