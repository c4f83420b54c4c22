"""Shared check that an addon's i18n/fr.po translates every term it has."""

import os
import warnings

import polib

from odoo.modules import get_module_path
from odoo.tools.translate import TranslationModuleReader


def fr_po_path(module):
    return os.path.join(get_module_path(module), "i18n", "fr.po")


class FrPoCompleteMixin:
    """For a ``TransactionCase``: every translatable source term of an addon
    (Python ``_()`` strings, field labels and helps, selection values, views
    and QWeb templates, data records) has its French translation in its
    fr.po; a new or reworded string names itself in the failure (re-export
    the .pot with odoo-bin --i18n-export and fill fr.po)."""

    def _module_terms(self, module):
        """Every translatable source term of ``module``, with where it comes
        from."""
        # The reader reads the records in French: the language must be active.
        self.env["res.lang"]._activate_lang("fr_FR")
        with warnings.catch_warnings():
            # Babel's extractor imports the deprecated pkg_resources: not ours.
            warnings.filterwarnings("ignore", "pkg_resources is deprecated")
            reader = TranslationModuleReader(self.env.cr, [module], lang="fr_FR")
        terms = {}
        for term_module, ttype, name, res_id, source, _value, _comments in reader:
            if term_module == module and source:
                terms.setdefault(source, f"{ttype}:{name}:{res_id}")
        return terms

    def _assert_fr_po_complete(self, module, sample_term):
        """``sample_term`` proves the export found the module's terms."""
        path = fr_po_path(module)
        po = polib.pofile(path)
        self.assertEqual(po.metadata.get("Language"), "fr", f"{path}: Language: fr")
        translated = {e.msgid for e in po if e.msgstr.strip() and not e.obsolete}
        terms = self._module_terms(module)
        self.assertIn(sample_term, terms, "the export did not find the module's terms")
        missing = sorted(source for source in terms if source not in translated)
        listing = "\n".join(f"- {source!r}  ({terms[source]})" for source in missing)
        self.assertFalse(
            missing,
            f"{len(missing)} term(s) of {module} have no French translation in "
            f"{path}:\n{listing}",
        )
