import os
import warnings

import polib

from odoo.modules import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

MODULE = "relance_avancee_sale"


@tagged("post_install", "-at_install")
class TestRelanceSaleI18n(TransactionCase):
    def test_fr_po_translates_every_term(self):
        """Every translatable term of the Sales bridge has its French
        translation (re-export the .pot with odoo-bin --i18n-export and fill
        fr.po)."""
        path = os.path.join(get_module_path(MODULE), "i18n", "fr.po")
        po = polib.pofile(path)
        self.assertEqual(po.metadata.get("Language"), "fr")
        translated = {e.msgid for e in po if e.msgstr.strip() and not e.obsolete}
        self.env["res.lang"]._activate_lang("fr_FR")
        with warnings.catch_warnings():
            # Babel's extractor imports the deprecated pkg_resources: not ours.
            warnings.filterwarnings("ignore", "pkg_resources is deprecated")
            reader = TranslationModuleReader(self.env.cr, [MODULE], lang="fr_FR")
        terms = {
            source: f"{ttype}:{name}"
            for module, ttype, name, _res_id, source, _value, _comments in reader
            if module == MODULE and source
        }
        self.assertIn("Reminder history", terms)
        missing = sorted(source for source in terms if source not in translated)
        self.assertFalse(
            missing,
            f"term(s) without French translation in {path}:\n"
            + "\n".join(f"- {source!r} ({terms[source]})" for source in missing),
        )
