"""Risk profiles and their scenario steps: validation, copies, companies,
translations and access rights."""

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import RelanceCommon

SHIPPED_PROFILE_XMLIDS = (
    "relance_profile_key_account",
    "relance_profile_export",
    "relance_profile_sme",
    "relance_profile_risk",
)
SHIPPED_PROFILE_NAMES = {
    "Key account",
    "Export customer",
    "Small business",
    "At-risk customer",
}


@tagged("post_install", "-at_install")
class TestRelanceProfile(RelanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Profile = cls.env["relance.profile"]
        cls.Level = cls.env["relance.level"]
        cls.mail_template = cls.env.ref(
            "relance_avancee.mail_template_relance_reminder"
        )
        cls.sms_template = cls.env.ref("relance_avancee.sms_template_relance_reminder")
        cls.letter_report = cls.env.ref(
            "relance_avancee.action_report_relance_communication_letter"
        )
        cls.profile = cls.Profile.create({"name": "Test scenario"})
        cls.company_b = cls.setup_other_company()["company"]
        cls.profiles_a = cls.Profile.search([("company_id", "=", cls.company.id)])
        cls.profiles_b = cls.Profile.search([("company_id", "=", cls.company_b.id)])

    def _new_company(self, name):
        return self.env["res.company"].create({"name": name})

    def _level(self, profile=None, **values):
        return self.Level.create(
            {
                "profile_id": (profile or self.profile).id,
                "name": "Step",
                "delay": 10,
                "channel": "phone",
                **values,
            }
        )

    def _ranged_profile(self, score_min, score_max, company=None, **values):
        return self.Profile.create(
            {
                "name": f"Range {score_min}-{score_max}",
                "company_id": (company or self.company).id,
                "use_score_range": True,
                "score_min": score_min,
                "score_max": score_max,
                **values,
            }
        )

    # ------------------------------------------------------------------
    # Scenario steps
    # ------------------------------------------------------------------

    def test_email_step_needs_mail_template(self):
        with self.assertRaises(ValidationError):
            self._level(channel="email")
        level = self._level(channel="email", mail_template_id=self.mail_template.id)
        with self.assertRaises(ValidationError):
            level.mail_template_id = False

    def test_sms_step_needs_sms_template(self):
        with self.assertRaises(ValidationError):
            self._level(channel="sms")
        with self.assertRaises(ValidationError):
            # an email template does not make an SMS
            self._level(channel="sms", mail_template_id=self.mail_template.id)
        self._level(channel="sms", sms_template_id=self.sms_template.id)

    def test_letter_and_formal_notice_need_report(self):
        for channel in ("letter", "formal_notice"):
            with self.subTest(channel=channel), self.assertRaises(ValidationError):
                self._level(channel=channel, delay=30)
        self._level(channel="letter", delay=30, report_id=self.letter_report.id)
        self._level(channel="formal_notice", delay=30, report_id=self.letter_report.id)

    def test_phone_step_needs_no_template(self):
        level = self._level(channel="phone")
        self.assertTrue(level._is_manual())

    def test_two_steps_cannot_share_delay_and_channel(self):
        self._level(channel="email", delay=5, mail_template_id=self.mail_template.id)
        with self.assertRaises(ValidationError):
            self._level(
                channel="email", delay=5, mail_template_id=self.mail_template.id
            )
        # Same delay, another channel: an email and an SMS the same day is fine.
        sms = self._level(channel="sms", delay=5, sms_template_id=self.sms_template.id)
        # Same channel, another delay is fine too, but not moved onto the email.
        later = self._level(
            channel="email", delay=8, mail_template_id=self.mail_template.id
        )
        with self.assertRaises(ValidationError):
            later.delay = 5
        # The same step in another profile is fine.
        other = self.Profile.create({"name": "Other scenario"})
        self._level(other, channel="sms", delay=5, sms_template_id=self.sms_template.id)
        self.assertEqual(
            self.profile.level_ids.sorted("delay").mapped("delay"), [5, 5, 8]
        )
        self.assertIn(sms, self.profile.level_ids)

    # ------------------------------------------------------------------
    # Score ranges
    # ------------------------------------------------------------------

    def test_score_range_must_lie_within_0_and_100(self):
        for score_min, score_max in ((-5, 20), (90, 120)):
            with (
                self.subTest(score_min=score_min, score_max=score_max),
                mute_logger("odoo.sql_db"),
                self.assertRaises(IntegrityError),
            ):
                self._ranged_profile(score_min, score_max)
                self.env.flush_all()

    def test_score_range_cannot_be_reversed(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self._ranged_profile(60, 20)
            self.env.flush_all()
        # Reversing the range of an existing profile is refused before SQL.
        with self.assertRaises(ValidationError):
            self.profile_sme.write({"score_min": 90, "score_max": 60})

    def test_score_ranges_cannot_overlap_in_a_company(self):
        # Shipped ranges: Small business 40–100, At-risk customer 0–39.
        with self.assertRaises(ValidationError):
            self._ranged_profile(90, 100)
        with self.assertRaises(ValidationError):
            # An existing profile cannot take a range overlapping another either.
            self.profile.write(
                {"use_score_range": True, "score_min": 30, "score_max": 45}
            )
        self.profile_sme.score_max = 89
        excellent = self._ranged_profile(90, 100)
        # Company B's Small business profile still spans 40–100: other companies'
        # ranges do not matter.
        sme_b = self.company_b.relance_default_profile_id
        self.assertEqual((sme_b.score_min, sme_b.score_max), (40, 100))
        self.assertTrue(sme_b.use_score_range)
        self.assertEqual(excellent.company_id, self.company)
        with self.assertRaises(ValidationError):
            self._ranged_profile(90, 100, company=self.company_b)

    # ------------------------------------------------------------------
    # Copies and companies
    # ------------------------------------------------------------------

    def test_copy_copies_levels_and_disables_score_range(self):
        original = self.profile_sme
        copy = original.copy()
        self.assertEqual(copy.name, "Small business (copy)")
        self.assertFalse(copy.use_score_range, "two profiles cannot share a range")
        self.assertTrue(original.use_score_range)
        self.assertEqual(len(copy.level_ids), len(original.level_ids))
        self.assertFalse(copy.level_ids & original.level_ids)
        self.assertEqual(copy.level_ids.profile_id, copy)

        def steps(profile):
            return [
                (
                    lvl.delay,
                    lvl.channel,
                    lvl.tone,
                    lvl.auto,
                    lvl.mail_template_id,
                    lvl.report_id,
                )
                for lvl in profile._get_sorted_levels()
            ]

        self.assertEqual(steps(copy), steps(original))
        self.assertEqual(len(original.level_ids), 7, "the original keeps its levels")

    def test_each_company_gets_its_own_shipped_profiles(self):
        # The shipped profiles belong to the main company, not the test user's.
        shipped = self.env["relance.profile"].sudo()
        for xmlid in SHIPPED_PROFILE_XMLIDS:
            shipped |= self.env.ref(f"relance_avancee.{xmlid}").sudo()
        new_company = self._new_company("Nouvelle Société")
        for company in (self.company, self.company_b, new_company):
            with self.subTest(company=company.name):
                profiles = (
                    self.Profile.search([("company_id", "=", company.id)])
                    - self.profile
                )
                self.assertEqual(len(profiles), 4)
                self.assertEqual(set(profiles.mapped("name")), SHIPPED_PROFILE_NAMES)
                self.assertFalse(profiles & shipped, "copies, not the shipped records")
                self.assertEqual(profiles.level_ids.company_id, company)
                self.assertEqual(
                    sorted(len(p.level_ids) for p in profiles),
                    sorted(len(p.level_ids) for p in shipped),
                )
                default = company.relance_default_profile_id
                self.assertEqual(default.name, "Small business")
                self.assertEqual(default.company_id, company)
                ranges = {
                    p.name: (p.score_min, p.score_max)
                    for p in profiles.filtered("use_score_range")
                }
                self.assertEqual(
                    ranges, {"Small business": (40, 100), "At-risk customer": (0, 39)}
                )
                self.assertEqual(profiles.filtered("manual").name, "Key account")

    def test_user_outside_main_company_can_create_company(self):
        """The shipped profiles belong to the main company: a user creating a
        company without being a member of the main company must still get
        its copies."""
        self.assertNotIn(self.env.ref("base.main_company"), self.env.user.company_ids)
        company = self.env["res.company"].create({"name": "Filiale SAS"})
        profiles = self.Profile.search([("company_id", "=", company.id)])
        self.assertEqual(set(profiles.mapped("name")), SHIPPED_PROFILE_NAMES)
        self.assertEqual(company.relance_default_profile_id.company_id, company)

    def test_user_of_other_company_sees_no_profile_of_company_a(self):
        user_b = new_test_user(
            self.env,
            login="relance_user_b",
            groups="base.group_user,relance_avancee.group_relance_user",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
        )
        visible = self.Profile.with_user(user_b).search([])
        self.assertEqual(visible, self.profiles_b)
        self.assertFalse(visible & self.profiles_a)
        self.assertFalse(
            self.Level.with_user(user_b).search([]) & self.profiles_a.level_ids
        )
        with self.assertRaises(AccessError):
            self.profile_sme.with_user(user_b).read(["name"])

    def test_level_follows_its_profile_company(self):
        level = self._level(self.profiles_b[0], delay=99)
        self.assertEqual(level.company_id, self.company_b)

    def test_user_of_one_company_cannot_add_step_to_other_company_profile(self):
        manager_a = new_test_user(
            self.env,
            login="relance_manager_a",
            groups="base.group_user,relance_avancee.group_relance_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            self.Level.with_user(manager_a).create(
                {
                    "profile_id": self.profiles_b[0].id,
                    "name": "Sneaky call",
                    "delay": 99,
                    "channel": "phone",
                }
            )

    def test_history_refuses_level_of_other_company(self):
        """A company's history cannot point to a step of another company's
        scenario: its users could not even read that step."""
        partner = self._create_customer("Multi SA")
        invoice = self._invoice(partner, 100.0, "2026-03-31")
        level_b = self.profiles_b.level_ids.filtered(
            lambda lvl: lvl.channel == "phone"
        )[0]
        with self.assertRaises(UserError):
            self.env["relance.history"].create(
                {
                    "company_id": self.company.id,
                    "partner_id": partner.id,
                    "move_id": invoice.id,
                    "level_id": level_b.id,
                    "profile_id": level_b.profile_id.id,
                    "channel": level_b.channel,
                }
            )

    def test_company_default_profile_must_be_its_own(self):
        with self.assertRaises(UserError):
            self.company.relance_default_profile_id = (
                self.company_b.relance_default_profile_id
            )

    def test_customer_profile_must_belong_to_current_company(self):
        partner = self._create_customer("Multi SARL")
        with self.assertRaises(UserError):
            partner.with_company(
                self.company
            ).relance_profile_id = self.company_b.relance_default_profile_id

    # ------------------------------------------------------------------
    # Translations
    # ------------------------------------------------------------------

    def test_shipped_profiles_in_french(self):
        """Needs relance_avancee/i18n/fr.po."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["relance_avancee"], ["fr_FR"])
        expected = {
            "relance_profile_key_account": "Grand compte",
            "relance_profile_export": "Export",
            "relance_profile_sme": "TPE/PME",
            "relance_profile_risk": "Client à risque",
        }
        for xmlid, french in expected.items():
            # sudo: the shipped profiles belong to the main company
            profile = self.env.ref(f"relance_avancee.{xmlid}").sudo()
            with self.subTest(profile=xmlid):
                self.assertEqual(profile.with_context(lang="fr_FR").name, french)
        self.assertEqual(
            self.env.ref("relance_avancee.relance_profile_sme")
            .sudo()
            .with_context(lang="en_US")
            .name,
            "Small business",
        )
        # A company created afterwards gets its copies in French too.
        new_company = self._new_company("Société Française")
        names = (
            self.Profile.with_context(lang="fr_FR")
            .search([("company_id", "=", new_company.id)])
            .mapped("name")
        )
        self.assertEqual(set(names), set(expected.values()))

    # ------------------------------------------------------------------
    # Access rights
    # ------------------------------------------------------------------

    def _history_row(self):
        partner = self._create_customer("Historique SA")
        invoice = self._invoice(partner, 100.0, "2026-03-31")
        level = self.profile_sme._get_sorted_levels()[1]
        return self.env["relance.history"].create(
            {
                "company_id": self.company.id,
                "partner_id": partner.id,
                "move_id": invoice.id,
                "level_id": level.id,
                "channel": level.channel,
                "state": "sent",
            }
        )

    def test_salesperson_reads_profiles_and_history_but_cannot_edit_profiles(self):
        history = self._history_row()
        salesperson = new_test_user(
            self.env,
            login="relance_salesperson",
            groups="base.group_user",
            company_id=self.company.id,
        )
        # Their own customer's history (test_relance_salesperson: not others').
        history.partner_id.user_id = salesperson
        self.assertFalse(salesperson.has_group("relance_avancee.group_relance_user"))
        Profile = self.Profile.with_user(salesperson)
        self.assertEqual(Profile.search([]), self.profiles_a)
        self.assertEqual(
            self.profile_sme.with_user(salesperson).read(["name"])[0]["name"],
            "Small business",
        )
        self.assertEqual(
            history.with_user(salesperson).read(["state"])[0]["state"], "sent"
        )
        with self.assertRaises(AccessError):
            self.profile_sme.with_user(salesperson).write({"name": "Mine now"})
        with self.assertRaises(AccessError):
            Profile.create({"name": "My own scenario"})

    def test_accountant_is_dunning_user_reading_but_not_writing_profiles(self):
        accountant = new_test_user(
            self.env,
            login="relance_accountant",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.company.id,
        )
        self.assertTrue(accountant.has_group("relance_avancee.group_relance_user"))
        self.assertFalse(accountant.has_group("relance_avancee.group_relance_manager"))
        self.assertEqual(self.Profile.with_user(accountant).search([]), self.profiles_a)
        with self.assertRaises(AccessError):
            self.profile_sme.with_user(accountant).write({"name": "Mine now"})
        with self.assertRaises(AccessError):
            self.Profile.with_user(accountant).create({"name": "My own scenario"})

    def test_accounting_manager_is_dunning_manager_creating_profiles(self):
        manager = new_test_user(
            self.env,
            login="relance_account_manager",
            groups="base.group_user,account.group_account_manager",
            company_id=self.company.id,
        )
        self.assertTrue(manager.has_group("relance_avancee.group_relance_manager"))
        profile = self.Profile.with_user(manager).create(
            {
                "name": "Public sector",
                "level_ids": [
                    Command.create(
                        {
                            "name": "Reminder",
                            "delay": 10,
                            "channel": "email",
                            "mail_template_id": self.mail_template.id,
                        }
                    )
                ],
            }
        )
        self.assertEqual(profile.company_id, self.company)
        self.assertEqual(len(profile.level_ids), 1)
        profile.with_user(manager).write({"name": "Public sector (State)"})
        self.assertEqual(profile.name, "Public sector (State)")
