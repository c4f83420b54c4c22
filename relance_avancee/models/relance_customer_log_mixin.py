from collections import defaultdict

from markupsafe import Markup

from odoo import models


class RelanceCustomerLogMixin(models.AbstractModel):
    """For the dunning's records about a customer (``partner_id``): promises
    to pay, payment plans. What happens to them is noted on the customer."""

    _name = "relance.customer.log.mixin"
    _description = "Dunning record noted on its customer"

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
