import lxml.html

from odoo import models


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _run_wkhtmltopdf(
        self,
        bodies,
        report_ref=False,
        header=None,
        footer=None,
        landscape=False,
        specific_paperformat_args=None,
        set_viewport_size=False,
    ):
        # Debian's wkhtmltopdf (built against an unpatched Qt) refuses more
        # than one input document: our reports printed for several records
        # (letters, statements of a selection of customers) go as one
        # document, each record starting on a new page. The PDF is then
        # returned whole rather than split per record.
        report = report_ref and self._get_report(report_ref)
        if (
            len(bodies) > 1
            and report
            and report.report_name.startswith("relance_avancee.")
        ):
            bodies = [self._relance_join_bodies(bodies)]
        return super()._run_wkhtmltopdf(
            bodies,
            report_ref=report_ref,
            header=header,
            footer=footer,
            landscape=landscape,
            specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size,
        )

    def _relance_join_bodies(self, bodies):
        """One HTML document with the articles of ``bodies`` (each a whole
        document), each article from the second starting on a new page."""
        if len(bodies) == 1:
            return bodies[0]
        document = lxml.html.document_fromstring(bodies[0])
        target = document.find("body")
        for body in bodies[1:]:
            for node in lxml.html.document_fromstring(body).find("body"):
                if "article" in (node.get("class") or "").split():
                    node.set(
                        "style",
                        "page-break-before: always; " + (node.get("style") or ""),
                    )
                target.append(node)
        return lxml.html.tostring(
            document, encoding="unicode", doctype="<!DOCTYPE html>"
        )
