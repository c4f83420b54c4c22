"""The French translation (i18n/fr.po) stays complete and loads.

The first test exports, in-process, every translatable source term of the
module as it is now (Python ``_()`` strings, field labels and helps, selection
values, views and QWeb templates, data records such as profiles and mail
templates) and checks that fr.po translates each of them: when someone adds or
rewords a string, this test names the term to translate (re-export the .pot
with odoo-bin --i18n-export and fill fr.po).
"""

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from .i18n_common import FrPoCompleteMixin, fr_po_path

MODULE = "relance_avancee"


def _fr_po():
    return polib.pofile(fr_po_path(MODULE))


@tagged("post_install", "-at_install")
class TestRelanceI18n(FrPoCompleteMixin, TransactionCase):
    def test_fr_po_translates_every_term(self):
        self._assert_fr_po_complete(MODULE, "Overdue banner")

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

    def test_company_created_before_french_gets_french_copies(self):
        """A company created while only English was installed has its own
        copies of the shipped profiles; installing French afterwards gives
        them French names too, except a name the company changed."""
        profiles = self.env["relance.profile"]
        shipped = profiles.search([("source_id", "=", False)])
        self._forget_french(shipped, ["name", "description"])
        self._forget_french(shipped.level_ids, ["name"])
        company = self.env["res.company"].create({"name": "Avant le français"})
        copies = profiles.search([("company_id", "=", company.id)])
        sme = self.env.ref(f"{MODULE}.relance_profile_sme")
        self.assertEqual(len(copies.source_id), 4, "each copy knows its source")
        renamed = copies.filtered(lambda p: p.source_id == sme)
        renamed.name = "Our small customers"

        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            [MODULE], ["fr_FR"], overwrite=True
        )
        names = {p.source_id.id: p.with_context(lang="fr_FR").name for p in copies}
        self.assertEqual(
            names[self.env.ref(f"{MODULE}.relance_profile_key_account").id],
            "Grand compte",
        )
        self.assertEqual(
            names[self.env.ref(f"{MODULE}.relance_profile_risk").id],
            "Client à risque",
        )
        # The company's own name is kept, in French too.
        self.assertEqual(names[sme.id], "Our small customers")
        # The steps follow: French names of the company's steps.
        steps = (copies - renamed).level_ids.with_context(lang="fr_FR")
        self.assertIn("Prévenance", steps.mapped("name"))
        self.assertIn("Appel téléphonique", steps.mapped("name"))
        self.assertNotIn("Courtesy notice", steps.mapped("name"))

    def test_every_field_label_loads_in_french(self):
        """Each field label of the module reads in French once French is
        loaded (a fr.po entry whose references were lost would load nothing)."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            [MODULE], ["fr_FR"], overwrite=True
        )
        msgstr = {entry.msgid: entry.msgstr for entry in _fr_po()}
        field_ids = (
            self.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", "ir.model.fields")])
            .mapped("res_id")
        )
        fields_ = self.env["ir.model.fields"].browse(field_ids)
        wrong = []
        for field in fields_:
            english = field.with_context(lang="en_US").field_description
            french = field.with_context(lang="fr_FR").field_description
            if english in msgstr and french != msgstr[english]:
                wrong.append(f"{field.model}.{field.name}: {french!r}")
        self.assertFalse(wrong, "field labels not in French:\n" + "\n".join(wrong))
