from odoo import models


class SmsSms(models.Model):
    _inherit = "sms.sms"

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        res = super()._send(
            unlink_failed=unlink_failed,
            unlink_sent=unlink_sent,
            raise_exception=raise_exception,
        )
        # A dunning SMS the provider refused puts its rows in error, so a person
        # sees why and can send it again once.
        failed = self.exists().filtered(
            lambda sms: sms.state == "error" and sms.mail_message_id
        )
        failure_labels = dict(
            self._fields["failure_type"]._description_selection(self.env)
        )
        for failure_type, sms_group in failed.grouped("failure_type").items():
            self.env["relance.communication"]._on_delivery_failure(
                sms_group.mail_message_id,
                failure_labels.get(failure_type, failure_type),
                channel="sms",
            )
        return res
