from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import format_amount

from .common import RelanceCommon

# A Monday, the default digest day; the previous digest went a week before.
DIGEST_DAY = "2026-04-20"
LAST_DIGEST = date(2026, 4, 13)


@tagged("post_install", "-at_install")
class TestRelanceDigest(RelanceCommon):
    """Who gets the digest and what it says, on a known dataset."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["relance_avancee"], ["fr_FR"])
        cls.company.write(
            {
                "relance_digest_interval": "weekly",
                "relance_digest_weekday": "0",
                "relance_digest_last_date": LAST_DIGEST,
            }
        )
        user_values = {"company_id": cls.company.id, "groups": "base.group_user"}
        cls.sales_1 = new_test_user(
            cls.env, login="digest_sales_1", name="Sam Sales", **user_values
        )
        cls.sales_2 = new_test_user(
            cls.env,
            login="digest_sales_2",
            name="Sophie Vente",
            lang="fr_FR",
            **user_values,
        )
        cls.sales_3 = new_test_user(
            cls.env, login="digest_sales_3", name="Sid Idle", **user_values
        )
        cls.manager = new_test_user(
            cls.env,
            login="digest_manager",
            name="Max Manager",
            company_id=cls.company.id,
            groups="base.group_user,relance_avancee.group_relance_manager",
        )
        # Salesperson 1: a customer reminded last week, with a disputed invoice
        # and a call waiting, and a customer whose name is HTML.
        cls.alpha = cls._create_customer(
            "Alpha Bâtiment", cls.profile_sme, user_id=cls.sales_1.id
        )
        cls.alpha_invoice = cls._invoice(cls.alpha, 1000.0, "2026-04-15")
        cls.alpha_disputed = cls._invoice(cls.alpha, 300.0, "2026-04-10")
        cls.evil = cls._create_customer(
            "Evil <script>alert('x')</script> Corp",
            cls.profile_sme,
            user_id=cls.sales_1.id,
        )
        cls._invoice(cls.evil, 200.0, "2026-04-01")
        # Salesperson 2 (French): a key account long overdue.
        cls.beta = cls._create_customer(
            "Beta Industrie", cls.profile_key, user_id=cls.sales_2.id
        )
        cls._invoice(cls.beta, 2500.0, "2026-03-01")
        # Salesperson 3: a customer whose invoice is not due yet.
        cls.gamma = cls._create_customer(
            "Gamma Services", cls.profile_sme, user_id=cls.sales_3.id
        )
        cls._invoice(cls.gamma, 800.0, "2026-05-31")

    def setUp(self):
        super().setUp()
        # The dunning batch of April 18 sends Alpha its first reminder.
        with freeze_time("2026-04-18"):
            self._run("2026-04-18", self.alpha)
        self.reminder = self.env["relance.communication"].search(
            [("partner_id", "=", self.alpha.id), ("state", "=", "sent")]
        )
        self.assertTrue(self.reminder)
        with freeze_time("2026-04-17"):
            self.dispute = self.env["relance.dispute"].create(
                {"move_id": self.alpha_disputed.id, "reason": "late_delivery"}
            )
        Comm = self.env["relance.communication"]
        self.call = Comm.create(
            {
                "company_id": self.company.id,
                "partner_id": self.alpha.id,
                "channel": "phone",
                "manual": True,
                "state": "todo",
                "date": "2026-04-16",
                "user_id": self.sales_1.id,
            }
        )
        self.failed = Comm.create(
            {
                "company_id": self.company.id,
                "partner_id": self.beta.id,
                "channel": "email",
                "state": "error",
                "date": "2026-04-19",
                "error_reason": "Beta Industrie has no email address.",
            }
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _send(self, day=DIGEST_DAY):
        with freeze_time(day):
            self.env["relance.digest"]._cron_send_digest()

    def _digest_mails(self, template_xmlid):
        """``{user: mail.mail}`` of the queued mails of a digest template."""
        template = self.env.ref(f"relance_avancee.{template_xmlid}")
        english = template.with_context(lang="en_US").subject.split(": ")[-1]
        french = template.with_context(lang="fr_FR").subject.split(": ")[-1]
        mails = self.env["mail.mail"].search(
            [("model", "=", "res.users"), ("res_id", "!=", False)], order="id"
        )
        mails = mails.filtered(
            lambda m: m.subject.endswith(english) or m.subject.endswith(french)
        )
        users = self.env["res.users"].browse(mails.mapped("res_id"))
        return {
            user: mails.filtered(lambda m, user=user: m.res_id == user.id)
            for user in users
        }

    def _amount(self, amount, lang="en_US"):
        return format_amount(
            self.env(context={"lang": lang}), amount, self.company.currency_id
        )

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------

    def test_recipients_get_one_mail_each_in_the_queue(self):
        self._send()
        digests = self._digest_mails("mail_template_relance_digest")
        self.assertEqual(set(digests), {self.sales_1, self.sales_2})
        summaries = self._digest_mails("mail_template_relance_digest_summary")
        # The dunning managers: ours and the accounting managers of the test
        # company (accounting managers are dunning managers); never OdooBot.
        self.assertEqual(
            set(summaries), {self.manager, self.env.user, self.simple_accountman}
        )
        self.assertTrue(
            all(
                user.has_group("relance_avancee.group_relance_manager")
                for user in summaries
            )
        )
        for user, mail in list(digests.items()) + list(summaries.items()):
            self.assertEqual(len(mail), 1, user.name)
            self.assertEqual(mail.state, "outgoing")
            self.assertEqual(mail.recipient_ids, user.partner_id)
        self.assertNotIn(self.sales_3, summaries)
        self.assertEqual(self.company.relance_digest_last_date, date(2026, 4, 20))

    def test_salesperson_digest_lists_their_customers_only(self):
        self._send()
        body = self._digest_mails("mail_template_relance_digest")[
            self.sales_1
        ].body_html
        self.assertIn("Alpha Bâtiment", body)
        # Overdue on April 20: the disputed invoice (April 10) and the one of
        # April 15, the HTML-named customer's 200.
        self.assertIn(self._amount(1300.0), body)
        self.assertIn(self._amount(1500.0), body)
        self.assertNotIn("Beta Industrie", body)
        self.assertNotIn("Gamma Services", body)
        # Sent since the last digest: the first reminder of April 18.
        self.assertIn("Sent since the last digest", body)
        self.assertIn("First reminder", body)
        self.assertIn("04/18/2026", body)
        # The open dispute and the call waiting for 4 days.
        self.assertIn("Open disputes", body)
        self.assertIn(self.alpha_disputed.name, body)
        self.assertIn("Late delivery", body)
        self.assertIn("Tasks waiting for you", body)
        self.assertIn("Phone call", body)
        self.assertRegex(body, r">\s*4\s*</td>")

    def test_customer_names_are_escaped(self):
        self._send()
        body = self._digest_mails("mail_template_relance_digest")[
            self.sales_1
        ].body_html
        self.assertNotIn("<script>", body)
        self.assertIn("Evil &lt;script&gt;", body)

    def test_manager_summary(self):
        self._send()
        body = self._digest_mails("mail_template_relance_digest_summary")[
            self.manager
        ].body_html
        # Totals by profile: small business 1,500 (Alpha and Evil), key
        # account 2,500 (Beta); 4,000 overdue from 3 customers.
        self.assertIn("Overdue by profile", body)
        self.assertIn("Small business", body)
        self.assertIn("Key account", body)
        self.assertIn(self._amount(1500.0), body)
        self.assertIn(self._amount(2500.0), body)
        self.assertIn(self._amount(4000.0), body)
        # Biggest debtors, largest first, with their salesperson.
        self.assertIn("Biggest debtors", body)
        self.assertLess(body.index("Beta Industrie"), body.index("Alpha Bâtiment"))
        self.assertIn("Sophie Vente", body)
        self.assertNotIn("Gamma Services", body)
        # Communications in error, with why.
        self.assertIn("Communications in error", body)
        self.assertIn("Beta Industrie has no email address.", body)

    def test_second_run_same_day_sends_nothing(self):
        self._send()
        count = self.env["mail.mail"].search_count([("model", "=", "res.users")])
        self._send()
        self.assertEqual(
            self.env["mail.mail"].search_count([("model", "=", "res.users")]), count
        )

    def test_no_digest_on_other_days(self):
        # A Wednesday, the week's digest already sent on Monday.
        self.company.relance_digest_last_date = date(2026, 4, 20)
        self._send("2026-04-22")
        self.company.relance_digest_last_date = False
        self._send("2026-04-22")  # never sent: waits for the next Monday
        self.assertFalse(self._digest_mails("mail_template_relance_digest"))
        self.assertFalse(self._digest_mails("mail_template_relance_digest_summary"))

    def test_missed_digest_day_is_caught_up(self):
        # The cron did not run on Monday: Tuesday sends the digest, once.
        self._send("2026-04-21")
        self.assertEqual(
            set(self._digest_mails("mail_template_relance_digest")),
            {self.sales_1, self.sales_2},
        )
        self.assertEqual(self.company.relance_digest_last_date, date(2026, 4, 21))

    def test_interval_and_weekday(self):
        Digest = self.env["relance.digest"]
        company = self.company
        company.relance_digest_last_date = date(2026, 4, 20)
        company.relance_digest_weekday = "4"  # Friday
        self.assertFalse(Digest._is_digest_day(company, date(2026, 4, 23)))
        self.assertTrue(Digest._is_digest_day(company, date(2026, 4, 24)))
        company.relance_digest_interval = "daily"
        self.assertFalse(Digest._is_digest_day(company, date(2026, 4, 20)))
        self.assertTrue(Digest._is_digest_day(company, date(2026, 4, 21)))
        company.relance_digest_interval = "monthly"
        self.assertFalse(Digest._is_digest_day(company, date(2026, 4, 30)))
        self.assertTrue(Digest._is_digest_day(company, date(2026, 5, 1)))
        self.assertTrue(Digest._is_digest_day(company, date(2026, 5, 4)))
        company.relance_digest_interval = "never"
        self.assertFalse(Digest._is_digest_day(company, date(2026, 5, 4)))

    def test_french_salesperson_gets_the_french_digest(self):
        self._send()
        mail = self._digest_mails("mail_template_relance_digest")[self.sales_2]
        self.assertIn("Bonjour", mail.body_html)
        self.assertIn("Clients en retard de paiement", mail.body_html)
        self.assertNotIn("Customers with overdue amounts", mail.body_html)
        self.assertIn(self._amount(2500.0, "fr_FR"), mail.body_html)
        self.assertIn("relances", mail.subject)
        english = self._digest_mails("mail_template_relance_digest")[self.sales_1]
        self.assertIn("Hello", english.body_html)

    def test_template_preview_reads_the_digest_itself(self):
        # Outside the cron (the template editor's preview), the template reads
        # the digest of the user's current company for today.
        template = self.env.ref("relance_avancee.mail_template_relance_digest")
        with freeze_time(DIGEST_DAY):
            bodies = template.with_company(self.company)._render_field(
                "body_html", self.sales_1.ids, compute_lang=True
            )
        self.assertIn("Alpha Bâtiment", bodies[self.sales_1.id])
        self.assertIn(self._amount(1500.0), bodies[self.sales_1.id])
        self.assertFalse(self.env["mail.mail"].search([("model", "=", "res.users")]))

    def test_salesperson_cannot_preview_digests(self):
        # The preview reads the company's receivables: a salesperson (who may
        # edit templates) must not read others' customers through it.
        template = self.env.ref("relance_avancee.mail_template_relance_digest_summary")
        with (
            freeze_time(DIGEST_DAY),
            # The template engine wraps the AccessError in a UserError (its
            # parent class), message kept.
            self.assertRaisesRegex(UserError, "dunning team"),
        ):
            template.with_user(self.sales_1).with_company(self.company)._render_field(
                "body_html", self.sales_1.ids, compute_lang=True
            )
