from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(
        self, success_pids, failure_reason=False, failure_type=None
    ):
        # A dunning email the mail server refused puts its rows in error, so a
        # person sees it and can send it again once.
        if failure_type:
            failed = self.filtered(
                lambda m: m.mail_message_id and m.model == "res.partner"
            )
            for mail in failed:
                self.env["relance.communication"]._on_delivery_failure(
                    mail.mail_message_id,
                    failure_reason or mail.failure_reason or failure_type,
                )
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
