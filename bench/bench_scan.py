"""Benchmark of the dunning batch on a large ledger (run inside ``odoo-bin shell``).

Creates, inside one transaction that is rolled back at the end, a company with
N customers and M open invoices each, then measures the scan (planning what is
due), the preview and a full batch run (history rows, communications, queued
emails), printing wall time and query counts. Not a test: nothing is asserted.

Run it with ``bench/run`` (which creates the bench database if needed).
"""

import os
import time
from datetime import date, timedelta

from odoo import Command

N_CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "2000"))
N_INVOICES = int(os.environ.get("BENCH_INVOICES", "5"))
N_SEND = int(os.environ.get("BENCH_SEND", "200"))


def timed(label, func, cr):
    start_queries = cr.sql_log_count
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    print(f"{label:<48} {elapsed:8.2f} s {cr.sql_log_count - start_queries:>8} queries")
    return result


def main(env):
    cr = env.cr
    today = date.today()
    # Stylesheets for the invoice PDFs come from the running server (scripts/run).
    env["ir.config_parameter"].set_param(
        "report.url", os.environ.get("BENCH_REPORT_URL", "http://127.0.0.1:8069")
    )
    company = env["res.company"].create(
        {"name": "Bench company", "currency_id": env.ref("base.EUR").id}
    )
    env["account.chart.template"].try_loading(
        "generic_coa", company, install_demo=False
    )
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    profile = company.relance_default_profile_id
    print(
        f"ledger: {N_CUSTOMERS} customers x {N_INVOICES} invoices, "
        f"profile {profile.name}"
    )

    def build():
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Bench customer {i}",
                    "is_company": True,
                    "email": f"bench{i}@example.com",
                    "relance_profile_id": profile.id,
                    "relance_profile_auto": False,
                }
                for i in range(N_CUSTOMERS)
            ]
        )
        moves = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": today - timedelta(days=40 + k),
                    "invoice_date_due": today - timedelta(days=3 + (k * 7) % 40),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Bench", "quantity": 1, "price_unit": 100.0 + k}
                        )
                    ],
                }
                for partner in partners
                for k in range(N_INVOICES)
            ]
        )
        moves.action_post()
        env.flush_all()
        return partners

    partners = timed("create and post the ledger", build, cr)
    engine = env["relance.engine"]
    env.invalidate_all()
    proposals = timed(
        f"scan {N_CUSTOMERS} customers (cold cache)",
        lambda: engine._scan(company, today),
        cr,
    )
    env.invalidate_all()
    timed("scan again (warm Odoo caches)", lambda: engine._scan(company, today), cr)
    env.invalidate_all()
    timed(
        "collector worklist (SQL view, sorted by overdue)",
        lambda: env["relance.customer.balance"].search(
            [("company_id", "=", company.id)], order="amount_overdue desc", limit=80
        ),
        cr,
    )
    print(f"proposals: {len(proposals)} communications would be made")
    subset = partners[:N_SEND]
    for label in ("batch run", "rerun (nothing left to send)"):
        stats = timed(
            f"{label} for {N_SEND} customers",
            lambda: engine.with_context(relance_no_commit=True)._run(
                company, today, subset.ids
            ),
            cr,
        )
        print(f"  {stats}")
    cr.rollback()


main(env)  # noqa: F821 - provided by odoo-bin shell
