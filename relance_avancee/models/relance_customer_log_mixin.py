from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models


class RelanceCustomerLogMixin(models.AbstractModel):
    """For the dunning's records about a customer (``partner_id``): promises
    to pay, payment plans. They belong to the customer's commercial entity,
    what happens to them is noted on the customer, and their responsible is
    told when they break."""

    _name = "relance.customer.log.mixin"
    _description = "Dunning record noted on its customer"

    @api.model_create_multi
    def create(self, vals_list):
        # The customer, whichever of its contacts was chosen.
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
        return super().create(vals_list)

    def _get_responsible(self):
        """Who follows this record up (see each model)."""
        raise NotImplementedError

    def _schedule_broken_activities(self, type_xmlid, summary):
        """An activity of type ``type_xmlid`` saying ``summary`` and the
        record's ``_get_broken_message()``, for the responsible person of each
        of these records, created together."""
        if not self:
            return
        activity_type = self.env.ref(type_xmlid, raise_if_not_found=False)
        model = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        vals_list = [
            {
                "res_model_id": model,
                "res_id": record.id,
                "activity_type_id": activity_type.id if activity_type else False,
                "summary": summary,
                "note": record._get_broken_message(),
                "user_id": record._get_responsible().id,
                "date_deadline": today,
            }
            for record in self
        ]
        # sudo: the activity is assigned by the dunning's own follow-up,
        # whoever (the nightly cron, the accountant reconciling, a collector)
        # triggers it.
        self.env["mail.activity"].sudo().create(vals_list)

    def _log_on_customers(self, message):
        """Log ``message(record)`` in the chatter of each record's customer,
        one note per customer, all in one batch."""
        if not self:
            return
        bodies = defaultdict(list)
        for record in self:
            bodies[record.partner_id.id].append(message(record))
        # sudo: a note of the dunning's own bookkeeping on the customer, which
        # a collector without contact rights cannot write.
        self.env["res.partner"].sudo().browse(list(bodies))._message_log_batch(
            {pid: Markup("<br/>").join(texts) for pid, texts in bodies.items()},
            author_id=self.env.user.partner_id.id,
        )
