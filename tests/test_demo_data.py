"""The demo data loads (database relance_test_demo, installed with demo data) and
makes the product visible at first login."""

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
        assert company.chart_template == "generic_coa"
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
