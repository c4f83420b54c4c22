from freezegun import freeze_time

from odoo.tests import tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceEngineScenario(RelanceCommon):
    """A customer of each profile walked through time."""

    def test_small_business_full_scenario(self):
        partner = self._create_customer("Dupont SARL", self.profile_sme)
        invoice = self._invoice(
            partner, 1200.0, "2026-03-31", invoice_date="2026-03-01"
        )

        # D-8: nothing yet.
        with freeze_time("2026-03-23"):
            stats = self._run("2026-03-23", partner)
        self.assertEqual(stats.communications, 0)
        self.assertFalse(self._history(partner))

        # D-7: the courtesy notice, positive, by email, with the invoice PDF
        # (a step that attaches them).
        self.profile_sme.level_ids.filtered(lambda lvl: lvl.delay < 0).write(
            {"attach_invoice_pdf": True}
        )
        with freeze_time("2026-03-24"):
            self._run("2026-03-24", partner)
        courtesy = self._history(partner)
        self.assertEqual(len(courtesy), 1)
        self.assertRecordValues(
            courtesy,
            [
                {
                    "move_id": invoice.id,
                    "kind": "courtesy",
                    "channel": "email",
                    "state": "sent",
                    "tone": "positive",
                    "days_overdue": -7,
                }
            ],
        )
        mails = self._mails(partner)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.state, "outgoing")
        self.assertIn("falling due soon", mails.subject)
        self.assertIn(invoice.name, mails.body_html)
        self.assertEqual(len(mails.attachment_ids), 1)
        self.assertTrue(mails.attachment_ids.name.endswith(".pdf"))

        # The same day again: nothing more.
        with freeze_time("2026-03-24"):
            stats = self._run("2026-03-24", partner)
        self.assertEqual(stats.communications, 0)
        self.assertEqual(len(self._mails(partner)), 1)

        # D+3: first reminder; D+12: the firm one.
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", partner)
        with freeze_time("2026-04-12"):
            self._run("2026-04-12", partner)
        mails = self._mails(partner)
        self.assertEqual(len(mails), 3)
        self.assertIn("payment required", mails[-1].subject)
        self.assertEqual(
            self._history(partner, kind="reminder").mapped("level_id.tone"),
            ["positive", "firm"],
        )
        # The customer shows its latest step, not an earlier one.
        self.assertEqual(partner.relance_last_level_id.delay, 12)
        self.assertEqual(str(partner.relance_last_date), "2026-04-12")

        # D+18: a phone call, as an activity for the collector with the balance.
        with freeze_time("2026-04-18"):
            self._run("2026-04-18", partner)
        call = self._history(partner, channel="phone")
        self.assertEqual(call.state, "todo")
        activity = call.communication_id.activity_id
        self.assertEqual(activity.user_id, self.collector)
        self.assertEqual(
            activity.activity_type_id, self.env.ref("mail.mail_activity_data_call")
        )
        self.assertIn(invoice.name, str(activity.note))
        with freeze_time("2026-04-18"):
            activity.action_feedback(feedback="Promised for next week")
        self.assertEqual(call.state, "sent")

        # D+30: the letter waits in the print queue until printed.
        with freeze_time("2026-04-30"):
            self._run("2026-04-30", partner)
        letter = self._history(partner, channel="letter")
        self.assertEqual(letter.state, "todo")
        self.assertEqual(letter.communication_id.state, "todo")
        self._create_company_bank_account()
        with freeze_time("2026-04-30"):
            letter.communication_id.action_print()
        self.assertEqual(letter.state, "sent")

        # D+45: the formal notice is a task for a person.
        with freeze_time("2026-05-15"):
            self._run("2026-05-15", partner)
        notice = self._history(partner, channel="formal_notice")
        self.assertEqual(notice.state, "todo")
        self.assertTrue(notice.communication_id.manual)
        self.assertTrue(notice.communication_id.activity_id)

        # Paid: a thank-you message, once.
        with freeze_time("2026-05-20"):
            self._pay(invoice, "2026-05-20")
            self._run("2026-05-20", partner)
            self._run("2026-05-20", partner)
        thanks = self._history(partner, kind="thanks")
        self.assertEqual(len(thanks), 1)
        self.assertEqual(thanks.state, "sent")
        self.assertIn("thank you", self._mails(partner)[-1].subject)

    def test_reminder_is_written_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["relance_avancee"], ["fr_FR"])
        french = self._create_customer("Durand SAS", self.profile_sme, lang="fr_FR")
        english = self._create_customer("Smith Ltd", self.profile_sme, lang="en_US")
        invoices = {
            partner: self._invoice(partner, 640.0, "2026-03-31")
            for partner in french | english
        }
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", french | english)
        french_mail = self._mails(french)
        english_mail = self._mails(english)
        self.assertIn("factures impayées", french_mail.subject)
        self.assertIn("Bonjour", french_mail.body_html)
        self.assertNotIn("Dear", french_mail.body_html)
        self.assertIn("unpaid invoices", english_mail.subject)
        for partner, mail in ((french, french_mail), (english, english_mail)):
            self.assertEqual(mail.recipient_ids, partner)
            self.assertIn(invoices[partner].name, mail.body_html)

    def test_one_open_call_per_customer_gathers_its_invoices(self):
        partner = self._create_customer("Deux Appels", self.profile_sme)
        first = self._invoice(partner, 300.0, "2026-03-01")
        second = self._invoice(partner, 500.0, "2026-03-10")
        # The second invoice's steps are spaced from its courtesy notice (sent
        # on March 4): first reminder March 19, second March 28, call April 3.
        days = ("2026-03-04", "2026-03-13", "2026-03-19", "2026-03-28", "2026-04-03")
        for day in days:
            with freeze_time(day):
                self._run(day, partner)
        calls = self._history(partner, channel="phone")
        self.assertEqual(calls.move_id, first | second)
        comm = calls.communication_id
        self.assertEqual(len(comm), 1, "one call for the customer, not one per invoice")
        activities = partner.activity_ids.filtered(
            lambda a: a.relance_communication_id == comm
        )
        self.assertEqual(len(activities), 1)
        self.assertIn(first.name, str(activities.note))
        self.assertIn(second.name, str(activities.note))
        with freeze_time("2026-04-04"):
            activities.action_feedback(feedback="Both promised for Friday")
        self.assertEqual(set(calls.mapped("state")), {"sent"})
