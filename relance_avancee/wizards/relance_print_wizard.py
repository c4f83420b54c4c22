from odoo import _, api, fields, models
from odoo.exceptions import UserError


class RelancePrintWizard(models.TransientModel):
    """Print the day's letters in two steps: *Print* renders them into one PDF
    (a ``relance.print.batch``) and changes nothing; *Confirm* records the
    letters as sent once the user has printed and posted them. Letters already
    sent are reprinted at the date they were sent, their state unchanged."""

    _name = "relance.print.wizard"
    _description = "Print dunning letters"

    communication_ids = fields.Many2many(
        "relance.communication",
        string="Letters",
        domain=[("channel", "in", ("letter", "formal_notice"))],
    )
    batch_id = fields.Many2one("relance.print.batch", string="Print", readonly=True)
    state = fields.Selection(
        [("draft", "To print"), ("printed", "Printed"), ("done", "Done")],
        compute="_compute_state",
    )
    letter_count = fields.Integer(string="Letters to print", compute="_compute_counts")
    todo_count = fields.Integer(string="Letters to send", compute="_compute_counts")
    reprint_count = fields.Integer(string="Reprints", compute="_compute_counts")
    page_count = fields.Integer(related="batch_id.page_count")
    printed_count = fields.Integer(
        related="batch_id.letter_count", string="Letters printed"
    )
    attachment_id = fields.Many2one(related="batch_id.attachment_id", string="Document")
    batch_todo_count = fields.Integer(related="batch_id.todo_count")

    @api.depends("batch_id.state")
    def _compute_state(self):
        for wizard in self:
            if not wizard.batch_id:
                wizard.state = "draft"
            elif wizard.batch_id.state == "printed":
                wizard.state = "printed"
            else:
                wizard.state = "done"

    @api.depends("communication_ids.state")
    def _compute_counts(self):
        for wizard in self:
            comms = wizard.communication_ids
            wizard.letter_count = len(comms)
            wizard.todo_count = len(comms.filtered(lambda c: c.state == "todo"))
            wizard.reprint_count = len(comms.filtered(lambda c: c.state == "sent"))

    @api.model
    def default_get(self, fields_list):
        """The letters selected (``active_ids``), else the current company's
        letters still to print up to today."""
        values = super().default_get(fields_list)
        if "communication_ids" in fields_list and not values.get("communication_ids"):
            context = self.env.context
            Communication = self.env["relance.communication"]
            if context.get("active_model") == Communication._name and context.get(
                "active_ids"
            ):
                letters = Communication.browse(context["active_ids"])
            else:
                letters = Communication._get_letters_to_print()
            values["communication_ids"] = [fields.Command.set(letters.ids)]
        return values

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Print letters"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def action_print(self):
        """Step 1: render the letters into one PDF to download. Nothing is
        marked sent yet."""
        self.ensure_one()
        if self.batch_id:
            raise UserError(_("These letters are already printed: download them."))
        self.batch_id = self.env["relance.print.batch"]._print_communications(
            self.communication_ids
        )
        return self._reopen()

    def action_download(self):
        self.ensure_one()
        if not self.batch_id:
            raise UserError(_("Print the letters first."))
        return self.batch_id.action_download()

    def action_confirm(self):
        """Step 2: the letters were printed and posted: record them as sent,
        then show the list again with their new state."""
        self.ensure_one()
        if not self.batch_id:
            raise UserError(_("Print the letters first."))
        self.batch_id.action_confirm()
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    def action_cancel(self):
        """The letters were not posted: they stay to do."""
        self.ensure_one()
        if self.batch_id.state == "printed":
            self.batch_id.action_cancel()
        return {"type": "ir.actions.client", "tag": "soft_reload"}
