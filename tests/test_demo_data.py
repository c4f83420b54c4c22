"""The demo data loads (database relance_test_demo, installed with demo data and
Odoo's French localisation) and makes the product visible, in French, at first
login."""

import re
from datetime import date

from odoo.tools import html2plaintext

from .conftest import ADDON, DEMO_DB, module_row, odoo_env


def test_installed_with_demo():
    assert module_row(DEMO_DB) == ("installed", True), (
        f"{ADDON} must be installed in {DEMO_DB} with demo data"
    )


def test_demo_company_is_french_in_euros_with_its_profiles():
    with odoo_env(DEMO_DB) as env:
        company = env.ref(f"{ADDON}.relance_company_demo")
        assert company.currency_id.name == "EUR"
        assert company.country_id.code == "FR"
        assert company.chart_template == "fr", "French chart (l10n_fr_account)"
        profiles = env["relance.profile"].search([("company_id", "=", company.id)])
        assert len(profiles) == 4
        assert company.relance_default_profile_id in profiles
        admin = env.ref("base.user_admin")
        assert admin.company_id == company, "admin lands in the demo company"


def test_demo_customers_of_each_profile_with_contact_details():
    with odoo_env(DEMO_DB) as env:
        company = env.ref(f"{ADDON}.relance_company_demo")
        names = {"hexagone", "nordwind", "martin", "dubois", "rapides", "pixel"}
        partners = [
            env.ref(f"{ADDON}.relance_partner_{name}_demo").with_company(company)
            for name in names
        ]
        for partner in partners:
            assert partner.email and partner.phone and partner.street and partner.city
            assert partner.relance_profile_id.company_id == company
        profiles = {
            p.relance_profile_id.with_context(lang="en_US").name for p in partners
        }
        assert profiles == {
            "Key account",
            "Export customer",
            "Small business",
            "At-risk customer",
        }


def test_demo_invoices_cover_every_situation_relative_to_today():
    with odoo_env(DEMO_DB) as env:
        company = env.ref(f"{ADDON}.relance_company_demo")
        today = date.today()
        invoices = env["account.move"].search(
            [("company_id", "=", company.id), ("move_type", "=", "out_invoice")]
        )
        assert all(move.state == "posted" for move in invoices)
        states = set(invoices.mapped("payment_state"))
        assert {"not_paid", "partial"} <= states
        assert states & {"paid", "in_payment"}
        due_days = [(move.invoice_date_due - today).days for move in invoices]
        assert any(0 < days <= 8 for days in due_days), "due soon"
        assert any(-10 <= days < 0 for days in due_days), "just overdue"
        assert any(days < -60 for days in due_days), "long overdue"
        assert any(move.relance_in_dispute for move in invoices)


def test_demo_batches_left_a_history_and_work_to_do():
    with odoo_env(DEMO_DB) as env:
        company = env.ref(f"{ADDON}.relance_company_demo")
        history = env["relance.history"].search([("company_id", "=", company.id)])
        assert {"sent", "todo"} <= set(history.mapped("state"))
        assert {"courtesy", "reminder"} <= set(history.mapped("kind"))
        assert {"email", "sms", "phone"} <= set(history.mapped("channel"))
        queued = env["mail.mail"].search(
            [("model", "=", "res.partner"), ("state", "=", "outgoing")]
        )
        assert queued, "dunning emails wait in the mail queue"
        risky = env.ref(f"{ADDON}.relance_partner_rapides_demo").with_company(company)
        assert risky.relance_score < 40
        assert risky.relance_profile_id.score_max < 40, "moved to the at-risk profile"
        worklist = env["relance.customer.balance"].search(
            [("company_id", "=", company.id), ("amount_overdue", ">", 0)]
        )
        assert len(worklist) >= 5
        runs = env["relance.run"].search([("company_id", "=", company.id)])
        assert len(runs) == 5, "five days of daily runs"
        assert set(runs.mapped("state")) == {"done"}
        assert sum(runs.mapped("customer_count")) > 0


def test_demo_company_has_the_french_chart_and_vat():
    with odoo_env(DEMO_DB) as env:
        company = env.ref(f"{ADDON}.relance_company_demo")
        vat_20 = env["account.tax"].search(
            [
                ("company_id", "=", company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("amount", "=", 20.0),
            ]
        )
        assert vat_20, "a 20 % sale tax"
        assert company.account_sale_tax_id.amount == 20.0
        assert company.siret == "30326504500013", "l10n_fr's SIRET filled"


def test_demo_users_and_customers_speak_french():
    with odoo_env(DEMO_DB) as env:
        admin = env.ref("base.user_admin")
        collector = env.ref(f"{ADDON}.relance_user_collector_demo")
        for user in admin | collector:
            assert user.lang == "fr_FR", user.login
            assert user.tz == "Europe/Paris", user.login
        for name in ("hexagone", "martin", "dubois", "rapides", "pixel"):
            assert env.ref(f"{ADDON}.relance_partner_{name}_demo").lang == "fr_FR"
        nordwind = env.ref(f"{ADDON}.relance_partner_nordwind_demo")
        assert nordwind.lang in ("de_DE", "en_US")


def test_demo_reminders_of_french_customers_are_in_french():
    with odoo_env(DEMO_DB) as env:
        company = env.ref(f"{ADDON}.relance_company_demo")
        comms = env["relance.communication"].search(
            [
                ("company_id", "=", company.id),
                ("channel", "=", "email"),
                ("state", "=", "sent"),
                ("mail_message_id", "!=", False),
                ("partner_id.lang", "=", "fr_FR"),
            ]
        )
        assert comms, "French customers were sent reminders"
        for comm in comms:
            body = str(comm.mail_message_id.body)
            assert "Bonjour" in body and "Dear" not in body, comm.display_name


def test_demo_install_left_no_mail_in_exception():
    with odoo_env(DEMO_DB) as env:
        failed = env["mail.mail"].search([("state", "=", "exception")])
        assert not failed, failed.mapped("failure_reason")
        # Odoo's own demo data keeps a few failed notifications on purpose
        # (mail's and sms's examples); none is the dunning demo's.
        company = env.ref(f"{ADDON}.relance_company_demo")
        customers = env["res.partner"].search(
            [("relance_profile_id.company_id", "=", company.id)]
        )
        notifications = env["mail.notification"].search(
            [
                ("notification_status", "=", "exception"),
                "|",
                ("res_partner_id", "in", customers.ids),
                ("mail_message_id.author_id", "in", company.partner_id.ids),
            ]
        )
        assert not notifications


def test_demo_shows_a_letter_to_print_a_dispute_and_an_overdue_call():
    with odoo_env(DEMO_DB) as env:
        company = env.ref(f"{ADDON}.relance_company_demo")
        letters = env["relance.communication"].search(
            [
                ("company_id", "=", company.id),
                ("channel", "=", "letter"),
                ("state", "=", "todo"),
            ]
        )
        assert letters, "a letter waits in Letters to print"
        disputes = env["relance.dispute"].search(
            [("move_id.company_id", "=", company.id), ("state", "=", "open")]
        )
        assert disputes, "a dispute is open"
        calls = env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("activity_type_id", "=", env.ref("mail.mail_activity_data_call").id),
                ("date_deadline", "<", date.today()),
            ]
        )
        assert calls, "a phone call is overdue"


def _invoice_demo(env, key):
    return env.ref(f"{ADDON}.relance_invoice_{key}_demo")


def _notes(records):
    """The chatter notes (system notifications and logged notes) of
    ``records``, as plain text."""
    messages = records.env["mail.message"].search(
        [
            ("model", "=", records._name),
            ("res_id", "in", records.ids),
            ("message_type", "=", "notification"),
        ]
    )
    return [re.sub(r"\s+", " ", html2plaintext(m.body or "")) for m in messages]


def test_demo_invoices_carry_the_company_vat_mapped_by_fiscal_position():
    with odoo_env(DEMO_DB) as env:
        company = env.ref(f"{ADDON}.relance_company_demo")
        sale_tax = company.account_sale_tax_id
        assert sale_tax.amount == 20.0
        invoices = env["account.move"].search(
            [("company_id", "=", company.id), ("move_type", "=", "out_invoice")]
        )
        Fpos = env["account.fiscal.position"].with_company(company)
        export = env.ref(f"{ADDON}.relance_partner_nordwind_demo")
        for move in invoices:
            taxes = move.invoice_line_ids.tax_ids
            currency = move.currency_id
            expected_tax = currency.round(
                sum(taxes.mapped("amount")) / 100 * move.amount_untaxed
            )
            assert taxes == Fpos._get_fiscal_position(move.partner_id).map_tax(
                sale_tax
            ), move.name
            assert currency.is_zero(move.amount_tax - expected_tax), move.name
            assert currency.is_zero(
                move.amount_total - move.amount_untaxed - move.amount_tax
            ), move.name
            if move.partner_id == export:
                # Intra-EU B2B (a German VAT number): 0 %, reverse charge.
                assert move.fiscal_position_id.vat_required, move.name
                assert taxes and not any(taxes.mapped("amount")), move.name
            else:
                assert taxes == sale_tax, move.name
                assert move.amount_tax > 0, move.name
        # Partly paid stays partly paid with the tax: Atelier Dubois paid
        # 1,000.00 of its first invoice.
        dubois = _invoice_demo(env, "dubois_1")
        assert dubois.payment_state == "partial"
        assert dubois.currency_id.is_zero(
            dubois.amount_residual - (dubois.amount_total - 1000.0)
        )


def test_demo_chatter_notes_are_in_the_customer_language():
    with odoo_env(DEMO_DB) as env:
        # The French customers' records: notes of the batches, of a task done,
        # of a dispute, of the score, in French.
        letter_notes = _notes(_invoice_demo(env, "rapides_1"))
        assert any("placée dans la file" in note for note in letter_notes), letter_notes
        assert any("Facture créée" in note for note in letter_notes), letter_notes
        done_notes = _notes(_invoice_demo(env, "hexagone_1"))
        assert any("Relance amicale : envoi par" in n for n in done_notes), done_notes
        dispute_notes = _notes(_invoice_demo(env, "pixel_1"))
        assert any("Litige ouvert par" in n for n in dispute_notes), dispute_notes
        rapides = env.ref(f"{ADDON}.relance_partner_rapides_demo")
        profile_notes = _notes(rapides)
        assert any(
            "Profil de relance passé de TPE/PME à Client à risque" in n
            for n in profile_notes
        ), profile_notes
        english = (
            "queued for printing",
            " sent by ",
            "Dispute opened",
            "Dunning profile changed",
            "Invoice Created",
            "Contact created",
        )
        company = env.ref(f"{ADDON}.relance_company_demo")
        invoices = env["account.move"].search(
            [("company_id", "=", company.id), ("move_type", "=", "out_invoice")]
        )
        french = invoices.filtered(lambda m: m.partner_id.lang == "fr_FR")
        assert french
        for note in _notes(french) + _notes(french.partner_id):
            assert not any(text in note for text in english), note
        # The export customer's invoices read in its language (English unless
        # the addon speaks German).
        export = invoices - french
        assert export and set(export.partner_id.mapped("lang")) <= {"en_US", "de_DE"}
        if export.partner_id.lang == "en_US":
            assert any("Invoice Created" in n for n in _notes(export))


def test_demo_shows_an_open_promise_and_an_annotation():
    with odoo_env(DEMO_DB) as env:
        invoice = env.ref(f"{ADDON}.relance_invoice_dubois_1_demo")
        company = invoice.company_id
        promise = env["relance.promise"].search(
            [("company_id", "=", company.id), ("state", "=", "open")]
        )
        assert promise.move_ids == invoice
        assert promise.amount == invoice.amount_residual
        assert invoice.relance_pause_until == promise.date > date.today()
        annotation = invoice.relance_annotation_ids
        assert annotation.kind == "payment_planned"
        assert annotation.user_id == promise.user_id
        # Not a customer waiting for a person: its scenario is automatic.
        assert not env["relance.communication"].search(
            [("partner_id", "=", promise.partner_id.id), ("state", "=", "todo")]
        )


def test_demo_shows_a_running_payment_plan():
    with odoo_env(DEMO_DB) as env:
        invoice = env.ref(f"{ADDON}.relance_invoice_martin_1_demo")
        plan = invoice.relance_payment_plan_ids
        assert plan.state == "running"
        lines = plan.line_ids.sorted("date")
        assert len(lines) == 3
        # The instalments add up exactly to what the invoice owed.
        assert (
            plan.currency_id.compare_amounts(
                sum(lines.mapped("amount")), invoice.amount_residual
            )
            == 0
        )
        assert lines[0].date > date.today()
        assert invoice.relance_pause_until >= lines[-1].date
        # The agreement waits in the mail queue, in French.
        mail = env["mail.mail"].search(
            [("model", "=", "relance.payment.plan"), ("res_id", "=", plan.id)]
        )
        assert len(mail) == 1
        assert "échéancier" in mail.subject
        assert mail.state == "outgoing"
