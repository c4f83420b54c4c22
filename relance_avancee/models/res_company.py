from odoo import api, fields, models

DEFAULT_PROFILE_XMLIDS = (
    "relance_profile_key_account",
    "relance_profile_export",
    "relance_profile_sme",
    "relance_profile_risk",
)


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
        help="The payment-behaviour score looks at invoices due within this many "
        "days.",
    )
    relance_batch_size = fields.Integer(
        string="Customers per batch",
        default=50,
        help="The daily batch commits after this many customers, so a crash loses "
        "at most one batch.",
    )
    relance_indemnity_amount = fields.Monetary(
        string="Recovery indemnity",
        currency_field="currency_id",
        default=40.0,
        help="Fixed indemnity for recovery costs per late invoice (40 € in France, "
        "Code de commerce D441-5).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._relance_install_default_profiles()
        return companies

    def _relance_install_default_profiles(self):
        """Give each company without profile its own copy of the shipped
        profiles (profiles are company-specific), the small-business profile
        being its default."""
        Profile = self.env["relance.profile"].sudo()
        for company in self:
            if Profile.search_count([("company_id", "=", company.id)], limit=1):
                continue
            default_profile = Profile
            for xmlid in DEFAULT_PROFILE_XMLIDS:
                source = self.env.ref(f"relance_avancee.{xmlid}", raise_if_not_found=False)
                if not source:
                    continue
                # The shipped profiles belong to the main company, which the
                # user creating a company may not see.
                source = source.sudo()
                profile = source.with_context(relance_keep_name=True).copy(
                    {
                        "company_id": company.id,
                        "use_score_range": source.use_score_range,
                    }
                )
                if xmlid == "relance_profile_sme":
                    default_profile = profile
            company.sudo().relance_default_profile_id = default_profile
