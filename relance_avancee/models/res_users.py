from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def _relance_get_digest(self):
        """What this salesperson's dunning digest reports (see
        ``relance.digest``), for the digest mail template."""
        self.ensure_one()
        return self.env["relance.digest"]._get_digest_values(self)

    def _relance_get_digest_summary(self):
        """What the dunning managers' summary reports, for its mail template."""
        self.ensure_one()
        return self.env["relance.digest"]._get_digest_values(self, kind="summary")
