"""The demo data loads (database relance_test_demo, installed with demo data and
Odoo's French localisation) and makes the product visible, in French, at first
login."""

from datetime import date

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
