from datetime import date

from freezegun import freeze_time
from lxml import html

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import convert_file

from .common import RelanceCommon

INVALID = "This link is no longer valid"


@tagged("post_install", "-at_install")
class TestRelancePortal(RelanceCommon, HttpCase):
    """The customer's self-service page, opened from a reminder's link by the
    public user (no account): it shows the invoices of that reminder and
    records a promise or a dispute; a wrong, expired or replayed link shows
    nothing and records nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._create_customer("Durand SAS", cls.profile_sme)
        cls.invoice = cls._invoice(cls.customer, 640.0, "2026-03-31")
        cls.invoice_2 = cls._invoice(cls.customer, 360.0, "2026-03-31")
        cls.other = cls._create_customer("Zephyr Industries", cls.profile_sme)
        cls.other_invoice = cls._invoice(cls.other, 9876.54, "2026-03-31")
        with freeze_time("2026-04-03"):
            cls._run(cls, "2026-04-03", cls.customer | cls.other)
        Communication = cls.env["relance.communication"]
        cls.comm = Communication.search(
            [("partner_id", "=", cls.customer.id), ("channel", "=", "email")]
        )
        cls.other_comm = Communication.search(
            [("partner_id", "=", cls.other.id), ("channel", "=", "email")]
        )

    def setUp(self):
        super().setUp()
        self.assertEqual(len(self.comm), 1)
        self.assertEqual(self.comm.move_ids, self.invoice | self.invoice_2)
        frozen = freeze_time("2026-04-05")
        frozen.start()
        self.addCleanup(frozen.stop)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _path(self, comm, token=None):
        token = token or comm._get_portal_token()
        return f"/relance/reminder/{comm.id}/{token}"

    def _open(self, path):
        response = self.url_open(path)
        return response, response.text

    def _form(self, page, kind):
        """The hidden fields (CSRF token, one-time number) of a form of the
        page."""
        form = html.fromstring(page).xpath(
            f"//form[contains(@class, 'o_relance_portal_{kind}')]"
        )[0]
        fields = {
            field.get("name"): field.get("value")
            for field in form.xpath(".//input[@type='hidden']")
        }
        return form.get("action"), fields

    def _submit(self, path, kind, values):
        """Open the page, fill the ``kind`` form with ``values``, send it."""
        _response, page = self._open(path)
        action, data = self._form(page, kind)
        data.update(values)
        response = self.url_open(action, data=data)
        return response, data

    def _promises(self, partner=None):
        return self.env["relance.promise"].search(
            [("partner_id", "=", (partner or self.customer).id)]
        )

    def _disputes(self):
        return self.env["relance.dispute"].search(
            [("partner_id", "in", (self.customer | self.other).ids)]
        )

    def _notes(self, partner, text):
        return partner.message_ids.filtered(lambda m: text in (m.body or ""))

    def _assert_nothing_shown(self, response, text):
        self.assertEqual(response.status_code, 403)
        self.assertIn(INVALID, text)
        for secret in (
            self.customer.name,
            self.other.name,
            self.invoice.name,
            self.other_invoice.name,
            "640.00",
            "9,876.54",
        ):
            self.assertNotIn(secret, text)

    # ------------------------------------------------------------------
    # A valid link
    # ------------------------------------------------------------------

    def test_valid_link_shows_the_invoices_of_its_reminder_only(self):
        response, page = self._open(self._path(self.comm))
        self.assertEqual(response.status_code, 200)
        self.assertIn("Durand SAS", page)
        for move in self.invoice | self.invoice_2:
            self.assertIn(move.name, page)
            # Its PDF, through the invoice's own portal link.
            self.assertIn(
                f"/my/invoices/{move.id}?access_token={move.access_token}"
                "&amp;report_type=pdf&amp;download=true",
                page,
            )
        self.assertIn("640.00", page)
        self.assertIn("1,000.00", page)
        self.assertNotIn("Zephyr", page)
        self.assertNotIn(self.other_invoice.name, page)
        self.assertNotIn("9,876.54", page)

    def test_promise_from_the_link_covers_the_invoices_claimed(self):
        response, _data = self._submit(
            self._path(self.comm), "promise", {"date": "2026-04-20", "amount": ""}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("your promise to pay is recorded", response.text)
        promise = self._promises()
        self.assertEqual(len(promise), 1)
        self.assertRecordValues(
            promise,
            [
                {
                    "origin": "portal",
                    "state": "open",
                    "date": date(2026, 4, 20),
                    "amount": 1000.0,
                    "user_id": self.collector.id,
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertEqual(promise.move_ids, self.invoice | self.invoice_2)
        note = self._notes(self.customer, "promised to pay")
        self.assertEqual(len(note), 1)
        self.assertIn("1,000.00", note.body)
        self.assertIn(self.invoice.name, note.body)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))

    def test_promise_of_an_amount_entered(self):
        self._submit(
            self._path(self.comm), "promise", {"date": "2026-04-30", "amount": "300,50"}
        )
        self.assertEqual(self._promises().amount, 300.5)
        self.assertTrue(self._notes(self.customer, "300.50"))

    def test_promise_beyond_the_company_limit_shows_the_error_creates_nothing(self):
        self.company.relance_promise_max_days = 30
        response, _data = self._submit(
            self._path(self.comm), "promise", {"date": "2026-05-20"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("The promised date can be at most 30 days away", response.text)
        self.assertFalse(self._promises())
        self.assertFalse(self._notes(self.customer, "promised to pay"))

    def test_second_open_promise_is_refused(self):
        self.env["relance.promise"].create(
            {
                "partner_id": self.customer.id,
                "date": "2026-04-15",
                "amount": 100.0,
            }
        )
        response, _data = self._submit(
            self._path(self.comm), "promise", {"date": "2026-04-20"}
        )
        self.assertIn("A promise to pay is already open", response.text)
        self.assertEqual(len(self._promises()), 1)

    def test_promise_of_more_than_is_due_is_refused(self):
        response, _data = self._submit(
            self._path(self.comm), "promise", {"date": "2026-04-20", "amount": "5000"}
        )
        self.assertIn("cannot be more than what is due", response.text)
        self.assertFalse(self._promises())

    def test_dispute_from_the_link_pauses_the_invoice_and_tells_the_collector(self):
        response, _data = self._submit(
            self._path(self.comm),
            "dispute",
            {
                "move_id": str(self.invoice_2.id),
                "reason": "not_received",
                "message": "<b>Never received</b> it",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("your message is recorded", response.text)
        dispute = self._disputes()
        self.assertEqual(len(dispute), 1)
        self.assertRecordValues(
            dispute,
            [
                {
                    "move_id": self.invoice_2.id,
                    "reason": "not_received",
                    "owner_id": self.collector.id,
                    "state": "open",
                }
            ],
        )
        # The customer's text stays text.
        self.assertIn("&lt;b&gt;Never received&lt;/b&gt; it", dispute.note)
        self.assertTrue(self.invoice_2.relance_in_dispute)
        # The invoice's trail names the customer's contact, not "Public user".
        opened = self.invoice_2.message_ids.filtered(
            lambda m: "Dispute opened by" in (m.body or "")
        )
        self.assertIn(
            (self.comm.recipient_id or self.comm.partner_id).name, opened.body
        )
        self.assertNotIn("Public user", opened.body)
        activity = dispute.activity_ids
        self.assertEqual(activity.user_id, self.collector)
        self.assertIn(self.invoice_2.name, activity.summary)
        note = self._notes(self.customer, "contested invoice")
        self.assertEqual(len(note), 1)
        self.assertIn("&lt;b&gt;Never received&lt;/b&gt;", note.body)
        self.assertIn("Invoice not received", note.body)
        # The contested invoice leaves the promise and dispute forms.
        page = response.text
        _action, _fields = self._form(page, "dispute")
        options = html.fromstring(page).xpath(
            "//select[@id='relance_dispute_move']/option"
        )
        self.assertEqual([o.text for o in options], [self.invoice.name])

    def test_dispute_without_message_is_refused(self):
        response, _data = self._submit(
            self._path(self.comm),
            "dispute",
            {"move_id": str(self.invoice.id), "reason": "price", "message": " "},
        )
        self.assertIn("Please tell us what is wrong", response.text)
        self.assertFalse(self._disputes())

    # ------------------------------------------------------------------
    # Links and forms that are not valid
    # ------------------------------------------------------------------

    def test_expired_link_shows_nothing_and_records_nothing(self):
        self.company.relance_portal_link_days = 10
        path = self._path(self.comm)
        _response, page = self._open(path)
        action, data = self._form(page, "promise")
        with freeze_time("2026-04-14"):
            response, _text = self._open(path)
            self.assertEqual(response.status_code, 200)
        with freeze_time("2026-04-16"):
            response, text = self._open(path)
            self._assert_nothing_shown(response, text)
            response = self.url_open(action, data={**data, "date": "2026-04-20"})
            self._assert_nothing_shown(response, response.text)
        self.assertFalse(self._promises())
        self.assertFalse(self._notes(self.customer, "promised to pay"))

    def test_token_of_another_communication_shows_nothing(self):
        path = self._path(self.comm, token=self.other_comm._get_portal_token())
        response, text = self._open(path)
        self._assert_nothing_shown(response, text)
        response = self.url_open(
            f"{path}/dispute",
            data={"move_id": str(self.invoice.id), "reason": "price", "message": "x"},
        )
        self._assert_nothing_shown(response, response.text)
        self.assertFalse(self._disputes())

    def test_tampered_token_shows_nothing_and_records_nothing(self):
        token = self.comm._get_portal_token()
        _response, page = self._open(self._path(self.comm, token))
        _action, data = self._form(page, "promise")
        flipped = "A" if token[20] != "A" else "B"
        for bad in (token[:20] + flipped + token[21:], token[:-3], "not-a-token"):
            path = self._path(self.comm, bad)
            response, text = self._open(path)
            self._assert_nothing_shown(response, text)
            response = self.url_open(
                f"{path}/promise", data={**data, "date": "2026-04-20"}
            )
            self._assert_nothing_shown(response, response.text)
        self.assertFalse(self._promises())

    def test_replayed_form_records_nothing_more(self):
        path = self._path(self.comm)
        response, data = self._submit(path, "promise", {"date": "2026-04-20"})
        self.assertIn("your promise to pay is recorded", response.text)
        self._promises().action_cancel()
        response = self.url_open(f"{path}/promise", data=data)
        self._assert_nothing_shown(response, response.text)
        self.assertEqual(len(self._promises()), 1)
        self.assertEqual(len(self._notes(self.customer, "promised to pay")), 1)

    def test_form_sent_from_another_browser_records_nothing(self):
        path = self._path(self.comm)
        _response, page = self._open(path)
        _action, data = self._form(page, "dispute")
        self.opener.cookies.clear()
        response = self.url_open(
            f"{path}/dispute",
            data={
                **data,
                "move_id": str(self.invoice.id),
                "reason": "price",
                "message": "Too expensive",
            },
        )
        self._assert_nothing_shown(response, response.text)
        self.assertFalse(self._disputes())

    def test_invoice_of_another_customer_cannot_be_contested(self):
        response, _data = self._submit(
            self._path(self.comm),
            "dispute",
            {
                "move_id": str(self.other_invoice.id),
                "reason": "price",
                "message": "Too expensive",
            },
        )
        self._assert_nothing_shown(response, response.text)
        self.assertFalse(self._disputes())
        self.assertFalse(self.other_invoice.relance_in_dispute)

    def test_communication_of_another_company_follows_that_company(self):
        other = self.setup_other_company()["company"]
        other.relance_promise_max_days = 10
        customer = self._create_customer("Nordique SA")
        move = (
            self.env["account.move"]
            .with_company(other)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": customer.id,
                    "invoice_date": "2026-03-31",
                    "invoice_date_due": "2026-03-31",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Services",
                                "quantity": 1,
                                "price_unit": 2500.0,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        self.engine._run(other, date(2026, 4, 5), partner_ids=customer.ids)
        comm = self.env["relance.communication"].search(
            [("partner_id", "=", customer.id), ("channel", "=", "email")]
        )
        self.assertEqual(comm.company_id, other)
        path = self._path(comm)
        response, page = self._open(path)
        self.assertIn("2,500.00", page)
        # Both companies number INV/2026/00001: the other customer's amounts
        # tell whether its invoices leak.
        self.assertNotIn("Durand SAS", page)
        self.assertNotIn("640.00", page)
        # The other company's limit (10 days), not the current one's (30).
        response, _data = self._submit(path, "promise", {"date": "2026-04-20"})
        self.assertIn("at most 10 days away", response.text)
        self._submit(path, "promise", {"date": "2026-04-12"})
        promise = self._promises(customer)
        self.assertRecordValues(
            promise, [{"company_id": other.id, "amount": 2500.0, "origin": "portal"}]
        )
        self.assertEqual(promise.move_ids, move)

    # ------------------------------------------------------------------
    # Payment, language, the email's link
    # ------------------------------------------------------------------

    def test_pay_now_only_with_an_online_payment_provider(self):
        if "payment.provider" not in self.env:
            self.skipTest("the payment addon is not installed")
        Provider = self.env["payment.provider"]
        Provider.search([("state", "!=", "disabled")]).state = "disabled"
        _response, page = self._open(self._path(self.comm))
        self.assertNotIn("o_relance_portal_pay", page)
        Provider.create(
            {
                "name": "Carte bancaire",
                "state": "test",
                "is_published": True,
                "company_id": self.company.id,
            }
        )
        _response, page = self._open(self._path(self.comm))
        links = html.fromstring(page).xpath(
            "//a[contains(@class, 'o_relance_portal_pay')]"
        )
        self.assertEqual(len(links), 2)
        self.assertIn(self.invoice.get_portal_url(), links[0].get("href"))

    def test_page_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["relance_avancee"], ["fr_FR"], overwrite=True
        )
        self.customer.lang = "fr_FR"
        _response, page = self._open(self._path(self.comm))
        self.assertIn("Vos factures à régler", page)
        self.assertIn("Je paierai à cette date", page)
        self.assertIn("Facture non reçue", page)
        self.assertNotIn("Your invoices to settle", page)
        # The company's limits speak French too.
        response, _data = self._submit(
            self._path(self.comm), "promise", {"date": "2026-06-30"}
        )
        self.assertIn("La date promise peut être au plus dans 30 jours", response.text)
        self.assertFalse(self._promises())

    def test_reminder_email_links_to_the_page(self):
        # The shipped templates are noupdate: load them as a new database does.
        convert_file(
            self.env,
            "relance_avancee",
            "data/mail_template_data.xml",
            {},
            mode="init",
            noupdate=False,
        )
        customer = self._create_customer("Martin SARL", self.profile_sme)
        invoice = self._invoice(customer, 250.0, "2026-03-31")
        self._run("2026-04-05", customer)
        comm = self.env["relance.communication"].search(
            [("partner_id", "=", customer.id), ("channel", "=", "email")]
        )
        body = html.fromstring(self._mails(customer)[-1].body_html)
        link = body.xpath("//a[contains(@href, '/relance/reminder/')]")[0].get("href")
        self.assertIn(f"/relance/reminder/{comm.id}/", link)
        response, page = self._open(link.replace(comm.get_base_url(), ""))
        self.assertEqual(response.status_code, 200)
        self.assertIn(invoice.name, page)
        self.assertNotIn("Durand SAS", page)
