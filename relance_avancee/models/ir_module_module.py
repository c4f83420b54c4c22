from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _load_module_terms(
        self, modules, langs, overwrite=False, imported_module=False
    ):
        res = super()._load_module_terms(
            modules, langs, overwrite=overwrite, imported_module=imported_module
        )
        if "relance_avancee" in modules:
            # The companies' copies of the shipped profiles get the new
            # language too (a language installed after the companies).
            self.env["relance.profile"]._relance_sync_translations(
                [lang for lang in langs if lang != "en_US"]
            )
        return res
