import smtplib

from odoo import models, tools


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

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        try:
            return super()._send(
                auto_commit=auto_commit,
                raise_exception=raise_exception,
                smtp_session=smtp_session,
                alias_domain_id=alias_domain_id,
                mail_server=mail_server,
                post_send_callback=post_send_callback,
            )
        except smtplib.SMTPServerDisconnected as error:
            # Odoo puts the email being sent in exception before sending it
            # (never sent twice), then lets a dropped session end the queue's
            # run without post-processing it: the email stays in exception,
            # never tried again. Its dunning rows go to error like a refusal,
            # to be sent again once.
            failed = self.filtered(
                lambda m: (
                    m.state == "exception"
                    and m.mail_message_id
                    and m.model == "res.partner"
                )
            )
            for mail in failed:
                self.env["relance.communication"]._on_delivery_failure(
                    mail.mail_message_id, tools.exception_to_unicode(error)
                )
            raise
