from odoo import _, fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    relance_communication_id = fields.Many2one(
        "relance.communication",
        string="Dunning communication",
        index="btree_not_null",
        ondelete="set null",
    )

    def _action_done(self, feedback=False, attachment_ids=None):
        # A dunning task marked done records its step as done.
        if not self.env.context.get("relance_skip_activity_hook"):
            comms = self.relance_communication_id.filtered(lambda c: c.state == "todo")
            comms.with_context(relance_skip_activity_hook=True).write(
                {"activity_id": False}
            )
            comms._mark_sent(by_person=True)
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)

    def unlink(self):
        # Cancelling a dunning task (not marking it done) cancels its step.
        if not self.env.context.get("relance_skip_activity_hook"):
            comms = self.relance_communication_id.filtered(lambda c: c.state == "todo")
            comms.write({"activity_id": False})
            comms._set_state(
                "cancelled",
                reason=_("The activity was cancelled by %s.", self.env.user.name),
            )
        return super().unlink()
