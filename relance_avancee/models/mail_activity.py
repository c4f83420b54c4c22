from odoo import _, fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    relance_communication_id = fields.Many2one(
        "relance.communication",
        string="Dunning communication",
        index="btree_not_null",
        ondelete="set null",
    )

    def write(self, vals):
        res = super().write(vals)
        if vals.get("user_id"):
            # A dunning task given to somebody else is theirs to do: the step
            # (and its history rows) follow the activity's new responsible.
            # sudo: the user may reassign the activity (checked by write above).
            comms = self.sudo().relance_communication_id.filtered(
                lambda c: c.state == "todo"
            )
            if comms:
                comms.write({"user_id": vals["user_id"]})
                comms.history_ids.filtered(lambda h: h.state == "todo").write(
                    {"user_id": vals["user_id"]}
                )
        return res

    def _action_done(self, feedback=False, attachment_ids=None):
        # A dunning task marked done records its step as done.
        if not self.env.context.get("relance_skip_activity_hook"):
            comms = self.relance_communication_id.filtered(lambda c: c.state == "todo")
            comms = comms._relance_as_actor()
            comms.with_context(relance_skip_activity_hook=True).write(
                {"activity_id": False}
            )
            comms._mark_sent(by_person=True)
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)

    def unlink(self):
        # Cancelling a dunning task (not marking it done) cancels its step.
        if not self.env.context.get("relance_skip_activity_hook"):
            comms = self.relance_communication_id.filtered(lambda c: c.state == "todo")
            comms = comms._relance_as_actor()
            comms.write({"activity_id": False})
            comms._set_state(
                "cancelled",
                reason=_("The activity was cancelled by %s.", self.env.user.name),
            )
        return super().unlink()
