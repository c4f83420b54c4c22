import uuid

from lxml import html
from markupsafe import Markup

from odoo import api, models


class MailTemplate(models.Model):
    _inherit = "mail.template"

    @api.model
    def _render_template_qweb(
        self, template_src, model, res_ids, add_context=None, options=None
    ):
        """Render a QWeb template for many records with one compilation.

        Odoo compiles an inline QWeb template again for every record it
        renders (the template is an element, never cached): for a dunning
        batch that is most of the time spent. Under ``relance_render_batch``
        the template is wrapped in a loop over the records, compiled and
        rendered once, and the output split per record. Anything unusual
        (a single record, a template without code) goes the standard way.
        """
        if (
            not self.env.context.get("relance_render_batch")
            or len(res_ids) < 2
            or not self._has_unsafe_expression_template_qweb(template_src, model)
        ):
            return super()._render_template_qweb(
                template_src, model, res_ids, add_context=add_context, options=options
            )
        marker = f"relance-split-{uuid.uuid4().hex}"
        wrapped = (
            '<t t-foreach="relance_records" t-as="object">'
            f'{template_src}<t t-out="relance_marker"/></t>'
        )
        variables = self._render_eval_context()
        variables.update(add_context or {})
        records = self.env[model].browse(res_ids)
        variables.update(relance_records=records, relance_marker=Markup(marker))
        rendered = self.env["ir.qweb"]._render(
            html.fragment_fromstring(wrapped, create_parent="div"),
            variables,
            **(options or {}),
        )
        # Remove the <div> wrapping the nodes, as Odoo does.
        parts = rendered[5:-6].split(marker)
        return {
            res_id: Markup(part) for res_id, part in zip(res_ids, parts, strict=False)
        }
