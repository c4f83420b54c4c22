from odoo import fields, models


class QueueJob(models.Model):
    _inherit = "queue.job"

    relance_run_id = fields.Many2one(
        "relance.run",
        string="Dunning run",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The daily dunning run this job serves a chunk of.",
    )
