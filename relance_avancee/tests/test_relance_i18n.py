"""The French translation (i18n/fr.po) stays complete and loads.

The first test exports, in-process, every translatable source term of the
module as it is now (Python ``_()`` strings, field labels and helps, selection
values, views and QWeb templates, data records such as profiles and mail
templates) and checks that fr.po translates each of them: when someone adds or
rewords a string, this test names the term to translate (re-export the .pot
with odoo-bin --i18n-export and fill fr.po).
"""

import os
import warnings

import polib

from odoo.modules import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL
from odoo.tools.translate import TranslationModuleReader

MODULE = "relance_avancee"


def _fr_po_path():
    return os.path.join(get_module_path(MODULE), "i18n", "fr.po")


def _fr_po():
    return polib.pofile(_fr_po_path())


@tagged("post_install", "-at_install")
class TestRelanceI18n(TransactionCase):
    def _module_terms(self):
        """Every translatable source term of the module, with where it comes from."""
        # The reader reads the records in French: the language must be active.
        self.env["res.lang"]._activate_lang("fr_FR")
        with warnings.catch_warnings():
            # Babel's extractor imports the deprecated pkg_resources: not ours.
            warnings.filterwarnings("ignore", "pkg_resources is deprecated")
            reader = TranslationModuleReader(self.env.cr, [MODULE], lang="fr_FR")
        terms = {}
        for module, ttype, name, res_id, source, _value, _comments in reader:
            if module != MODULE or not source:
                continue
            terms.setdefault(source, f"{ttype}:{name}:{res_id}")
        return terms

    def test_fr_po_translates_every_term(self):
        po = _fr_po()
        self.assertEqual(po.metadata.get("Language"), "fr", "fr.po: Language: fr")
        translated = {e.msgid for e in po if e.msgstr.strip() and not e.obsolete}
        terms = self._module_terms()
        self.assertGreater(len(terms), 100, "the export found almost no term")
        missing = sorted(source for source in terms if source not in translated)
        listing = "\n".join(f"- {source!r}  ({terms[source]})" for source in missing)
        self.assertFalse(
            missing,
            f"{len(missing)} term(s) of {MODULE} have no French translation in "
            f"{_fr_po_path()}:\n{listing}",
        )

    def _forget_french(self, records, fnames):
        """Drop the French values of translated fields, as on a database where
        French was never loaded: the shipped records are ``noupdate``, so
        loading the terms never replaces a French value they already hold."""
        self.env.flush_all()
        for fname in fnames:
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET %s = %s - %s WHERE id IN %s",
                    SQL.identifier(records._table),
                    SQL.identifier(fname),
                    SQL.identifier(fname),
                    "fr_FR",
                    tuple(records.ids),
                )
            )
        records.invalidate_recordset(fnames)

    def test_fr_terms_load(self):
        expected = {
            "relance_profile_key_account": "Grand compte",
            "relance_profile_export": "Export",
            "relance_profile_sme": "TPE/PME",
            "relance_profile_risk": "Client à risque",
        }
        profiles = self.env["relance.profile"].browse(
            [self.env.ref(f"{MODULE}.{xmlid}").id for xmlid in expected]
        )
        self._forget_french(profiles, ["name", "description"])
        reminder = self.env.ref(f"{MODULE}.mail_template_relance_reminder")
        self._forget_french(reminder, ["subject", "body_html"])

        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            [MODULE], ["fr_FR"], overwrite=True
        )
        fr = self.env(context=dict(self.env.context, lang="fr_FR"))
        for xmlid, name in expected.items():
            profile = fr.ref(f"{MODULE}.{xmlid}")
            self.assertEqual(profile.name, name, xmlid)
            self.assertNotEqual(
                profile.description,
                profile.with_context(lang="en_US").description,
                f"{xmlid}: the description is not translated",
            )
        # English stays English.
        sme = self.env.ref(f"{MODULE}.relance_profile_sme")
        self.assertEqual(sme.with_context(lang="en_US").name, "Small business")

        template = reminder.with_env(fr)
        english = reminder.with_context(lang="en_US")
        msgstr = {entry.msgid: entry.msgstr for entry in _fr_po()}
        self.assertEqual(template.subject, msgstr[english.subject])
        self.assertIn("factures impayées", template.subject)
        self.assertIn("{{ object.company_id.name }}", template.subject)
        self.assertIn("Sauf erreur de notre part", template.body_html)
        self.assertNotIn("Unless we are mistaken", template.body_html)
        # The QWeb of the translated body is intact.
        for fragment in (
            't-foreach="object._get_lines()"',
            "object._get_payment_reference()",
        ):
            self.assertIn(fragment, template.body_html)
