from odoo import api, models
from odoo.tools import html2plaintext


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        # A bounce of a dunning email puts its rows in error, with the
        # receiving server's reason, and asks for the address to be fixed; it
        # never sends the reminder again by itself.
        res = super()._routing_handle_bounce(email_message, message_dict)
        bounced_message = message_dict.get("bounced_message")
        if bounced_message and bounced_message.model == "res.partner":
            # The receiving server's explanation, on one line.
            reason = " ".join(html2plaintext(message_dict.get("body") or "").split())
            self.env["relance.communication"]._on_delivery_failure(
                bounced_message,
                reason[:500] or message_dict.get("bounced_email") or "",
                bounce=True,
            )
        return res
