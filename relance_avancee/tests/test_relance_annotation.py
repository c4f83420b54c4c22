from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelanceAnnotation(RelanceCommon):
    """Per-invoice annotations: dated and signed, shown on the invoice, the
    customer and the worklist; with a date and *Pause reminders* they pause
    the invoice's reminders until that date included."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales = new_test_user(
            cls.env, login="annotation_sales", groups="base.group_user"
        )
        cls.other_sales = new_test_user(
            cls.env, login="annotation_other_sales", groups="base.group_user"
        )
        cls.partner = cls._create_customer(
            "Annote SA", cls.profile_sme, user_id=cls.sales.id
        )
        cls.invoice = cls._invoice(cls.partner, 800.0, "2026-03-31")
        cls.other_invoice = cls._invoice(cls.partner, 200.0, "2026-03-31")

    def _annotate(self, day, **values):
        vals = {
            "move_id": self.invoice.id,
            "kind": "decision_maker",
            "date": "2026-04-10",
            "pause_reminders": True,
            "note": "The CFO is back on 10 April.",
        }
        vals.update(values)
        with freeze_time(day):
            return self.env["relance.annotation"].with_user(self.collector).create(vals)

    def test_annotation_is_dated_and_signed(self):
        annotation = self._annotate("2026-04-01 09:30:00", pause_reminders=False)
        self.assertEqual(annotation.user_id, self.collector)
        # Dated by the database's clock (the transaction's time).
        self.assertTrue(annotation.create_date)
        self.assertEqual(annotation.partner_id, self.partner)
        self.assertEqual(annotation.company_id, self.company)
        self.assertEqual(self.invoice.relance_annotation_count, 1)
        # Without "Pause reminders" the invoice is not paused.
        self.assertFalse(self.invoice.relance_pause_until)

    def test_annotation_pause_ends_the_day_after_its_date(self):
        self._annotate("2026-04-01")
        with freeze_time("2026-04-03"):
            self.assertTrue(self.invoice.relance_paused)
            self.assertIn("Reminders paused until", self.invoice.relance_pause_reason)
            self.assertIn("The CFO is back", self.invoice.relance_pause_reason)
            self._run("2026-04-03", self.partner)
            # A step queued before the pause (a letter to print) is cancelled.
            reason = self.invoice._relance_get_not_due_reason()
            self.assertIn("Reminders paused until", reason)
            self.assertFalse(self.other_invoice._relance_get_not_due_reason())
        reminded = self._history(self.partner, kind="reminder").move_id
        self.assertEqual(reminded, self.other_invoice)
        with freeze_time("2026-04-10"):
            self._run("2026-04-10", self.partner)
        self.assertFalse(
            self._history(self.partner, kind="reminder", date="2026-04-10")
        )
        with freeze_time("2026-04-11"):
            # Computed for today: forget what the run of the 10th read.
            self.invoice.invalidate_recordset(["relance_paused"])
            self.assertFalse(self.invoice.relance_paused)
            self._run("2026-04-11", self.partner)
        resumed = self._history(self.partner, kind="reminder", date="2026-04-11")
        self.assertEqual(resumed.move_id, self.invoice)
        self.assertEqual(resumed.state, "sent")

    def test_billing_user_annotates_from_the_invoice_form(self):
        billing = new_test_user(
            self.env,
            login="annotation_billing",
            groups="base.group_user,account.group_account_invoice",
        )
        with freeze_time("2026-04-01"):
            form = Form(self.invoice.with_user(billing))
            with form.relance_annotation_ids.new() as line:
                line.kind = "payment_planned"
                line.date = "2026-04-08"
                line.pause_reminders = True
                line.note = "Transfer announced for the 8th."
            form.save()
        annotation = self.invoice.relance_annotation_ids
        self.assertEqual(annotation.user_id, billing)
        self.assertEqual(
            str(self.invoice.relance_pause_until), "2026-04-08", "paused until then"
        )
        action = self.invoice.with_user(billing).action_view_relance_annotations()
        self.assertEqual(
            self.env["relance.annotation"].search(action["domain"]), annotation
        )

    def test_pause_needs_a_date(self):
        with self.assertRaises(ValidationError):
            self._annotate("2026-04-01", date=False)

    def test_only_customer_invoices_are_annotated(self):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.partner.id,
                "invoice_date": "2026-03-01",
                "invoice_line_ids": [
                    Command.create({"name": "Goods", "quantity": 1, "price_unit": 10})
                ],
            }
        )
        with self.assertRaises(ValidationError):
            self._annotate("2026-04-01", move_id=bill.id)

    def test_annotations_shown_on_the_customer_and_the_worklist(self):
        annotation = self._annotate("2026-04-01")
        customer = self.partner.with_user(self.sales)
        self.assertEqual(customer.relance_annotation_ids, annotation)
        balance = (
            self.env["relance.customer.balance"]
            .with_user(self.collector)
            .search([("partner_id", "=", self.partner.id)])
        )
        self.assertEqual(balance.annotation_count, 1)
        self.assertIn(self.collector.name, balance.last_annotation)
        self.assertIn("The CFO is back", balance.last_annotation)
        # A paid invoice's annotations leave the customer's list.
        self._pay(self.invoice, "2026-04-05")
        self.partner.invalidate_recordset(["relance_annotation_ids"])
        self.assertFalse(self.partner.relance_annotation_ids)

    def test_salesperson_of_another_customer_cannot_read(self):
        annotation = self._annotate("2026-04-01")
        Annotation = self.env["relance.annotation"]
        self.assertEqual(Annotation.with_user(self.sales).search([]), annotation)
        self.assertFalse(Annotation.with_user(self.other_sales).search([]))
        with self.assertRaises(AccessError):
            annotation.with_user(self.other_sales).read(["note"])
        with self.assertRaises(AccessError):
            Annotation.with_user(self.sales).create(
                {"move_id": self.invoice.id, "kind": "other"}
            )

    def test_other_company_cannot_see_the_annotation(self):
        annotation = self._annotate("2026-04-01")
        company_b = self.setup_other_company()["company"]
        collector_b = new_test_user(
            self.env,
            login="annotation_collector_b",
            groups="base.group_user,relance_avancee.group_relance_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        Annotation = self.env["relance.annotation"].with_user(collector_b)
        self.assertFalse(Annotation.search([]))
        with self.assertRaises(AccessError):
            annotation.with_user(collector_b).read(["note"])
