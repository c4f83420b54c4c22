"""Build the seeded ledger of a comparison template (run inside ``odoo-bin shell``).

The database already has ``account``, ``relance_avancee`` and OCA's
``account_credit_control`` installed without demo data. This script gives the
main company a chart of accounts (EUR), the two equivalent 4-level policies
(ours and OCA's), ``BENCH_CUSTOMERS`` customers with 5 invoices each, and pays
part of them. Work is done in batches of 100 customers (500 invoices) with a
commit per batch, so an interrupted build resumes where it stopped. The
ir.config_parameter ``bench.ledger_done`` marks a complete ledger.

Run it with ``bench/compare`` (which creates the template databases).
"""

import os
import random
import time
from datetime import date, timedelta

from odoo import Command

N_CUSTOMERS = int(os.environ["BENCH_CUSTOMERS"])
N_INVOICES = 5
BATCH = 100  # customers per batch: 500 invoices
CTX = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


def param(env, key, value=None):
    icp = env["ir.config_parameter"].sudo()
    if value is None:
        return icp.get_param(key)
    icp.set_param(key, value)
    return value


def setup_company(env, today):
    """Chart of accounts, EUR, addresses, and the two equivalent policies."""
    company = env.ref("base.main_company")
    if param(env, "bench.base_done"):
        return company
    env["account.chart.template"].try_loading(
        "generic_coa", company, install_demo=False
    )
    company.write(
        {
            "currency_id": env.ref("base.EUR").id,
            "name": "Bench company",
            "email": "accounts@bench.example.com",
            "street": "1 rue de la Paix",
            "zip": "75002",
            "city": "Paris",
            "country_id": env.ref("base.fr").id,
        }
    )
    env.ref("base.user_admin").email = "admin@bench.example.com"
    make_our_profile(env, company)
    make_oca_policy(env, company)
    param(env, "bench.ledger_today", today.isoformat())
    param(env, "bench.base_done", "1")
    env.cr.commit()
    return company


LEVELS = [  # (delay, channel, name)
    (1, "email", "Reminder D+1"),
    (15, "email", "Reminder D+15"),
    (30, "letter", "Letter D+30"),
    (45, "letter", "Letter D+45"),
]


def make_our_profile(env, company):
    reminder = env.ref("relance_avancee.mail_template_relance_reminder")
    firm = env.ref("relance_avancee.mail_template_relance_firm")
    letter = env.ref("relance_avancee.action_report_relance_communication_letter")
    levels = []
    for seq, (delay, channel, name) in enumerate(LEVELS, start=1):
        vals = {
            "name": name,
            "sequence": seq * 10,
            "delay": delay,
            "channel": channel,
            "tone": "neutral" if delay < 15 else "firm",
            "auto": True,
        }
        if channel == "email":
            vals["mail_template_id"] = (reminder if delay < 15 else firm).id
        else:
            vals["report_id"] = letter.id
        levels.append(Command.create(vals))
    profile = env["relance.profile"].create(
        {
            "name": "Bench 4 levels",
            "company_id": company.id,
            "thank_you": "none",
            "level_ids": levels,
        }
    )
    company.relance_default_profile_id = profile
    param(env, "bench.profile_id", str(profile.id))


def make_oca_policy(env, company):
    template = env.ref("account_credit_control.email_template_credit_control_base")
    receivable = env["account.account"].search(
        [
            ("account_type", "=", "asset_receivable"),
            ("company_ids", "in", company.id),
        ]
    )
    levels = [
        Command.create(
            {
                "name": name,
                "level": seq,
                "computation_mode": "net_days",
                "delay_days": delay,
                "channel": channel,
                "email_template_id": template.id,
                "mail_show_invoice_detail": True,
                "custom_text": f"{name}: the invoices below are unpaid.",
                "custom_mail_text": f"<p>{name}: the invoices below are unpaid.</p>",
            }
        )
        for seq, (delay, channel, name) in enumerate(LEVELS, start=1)
    ]
    policy = env["credit.control.policy"].create(
        {
            "name": "Bench 4 levels",
            "company_id": company.id,
            "account_ids": [Command.set(receivable.ids)],
            "level_ids": levels,
        }
    )
    company.credit_policy_id = policy
    param(env, "bench.policy_id", str(policy.id))


def plan_ledger(today):
    """Deterministic plan: [(customer, k, due, amount, paid_ratio)]."""
    rng = random.Random(42)
    plan = []
    for i in range(N_CUSTOMERS):
        for k in range(N_INVOICES):
            r = rng.random()
            amount = round(rng.uniform(100, 5000), 2)
            if r < 0.65:  # overdue (30 %), partly paid (15 %), paid (20 %)
                due = today - timedelta(days=rng.randint(1, 120))
                paid = 0.0 if r < 0.30 else (0.4 if r < 0.45 else 1.0)
            else:  # not yet due
                due = today + timedelta(days=rng.randint(0, 45))
                paid = 0.0
            plan.append((i, k, due, amount, paid))
    return plan


def create_customers(env, company, start, stop):
    profile_id = int(param(env, "bench.profile_id"))
    policy_id = int(param(env, "bench.policy_id"))
    country = env.ref("base.fr").id
    return (
        env["res.partner"]
        .with_context(**CTX)
        .create(
            [
                {
                    "name": f"Bench customer {i:05d}",
                    "ref": f"BENCH{i:05d}",
                    "is_company": True,
                    "email": f"customer{i}@bench.example.com",
                    "street": f"{i} avenue du Test",
                    "zip": "69001",
                    "city": "Lyon",
                    "country_id": country,
                    "lang": "en_US",
                    "relance_profile_id": profile_id,
                    "relance_profile_auto": False,
                    "credit_policy_id": policy_id,
                }
                for i in range(start, stop)
            ]
        )
    )


def build_batch(env, company, partners, rows, today, pay_journal, bank_account):
    Move = env["account.move"].with_context(**CTX)
    first = rows[0][0]
    by_index = {first + n: partner for n, partner in enumerate(partners)}
    moves = Move.create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": by_index[i].id,
                "invoice_date": due - timedelta(days=30),
                "date": due - timedelta(days=30),
                "invoice_date_due": due,
                "ref": f"B{i}-{k}",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Bench service",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
            for i, k, due, amount, _paid in rows
        ]
    )
    moves.action_post()
    to_pay = [
        (move, paid) for move, (*_x, paid) in zip(moves, rows, strict=True) if paid
    ]
    if not to_pay:
        return moves
    receivable = {
        move: move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        for move, _paid in to_pay
    }
    amounts = [
        company.currency_id.round(receivable[move].balance * paid)
        for move, paid in to_pay
    ]
    # One bank entry per batch: one credit line per paid invoice, reconciled
    # with the invoice's receivable line (fully or 40 %).
    lines = [
        Command.create(
            {
                "name": f"Payment {move.name}",
                "account_id": receivable[move].account_id.id,
                "partner_id": move.partner_id.id,
                "credit": amount,
            }
        )
        for (move, _paid), amount in zip(to_pay, amounts, strict=True)
    ]
    lines.append(
        Command.create(
            {
                "name": "Bench payments",
                "account_id": bank_account,
                "debit": sum(amounts),
            }
        )
    )
    payment = Move.create(
        {
            "move_type": "entry",
            "journal_id": pay_journal,
            "date": today - timedelta(days=1),
            "ref": "Bench payments",
            "line_ids": lines,
        }
    )
    payment.action_post()
    credit_lines = payment.line_ids.filtered(lambda line: line.credit)
    plan = [
        receivable[move] | credit
        for (move, _paid), credit in zip(to_pay, credit_lines, strict=True)
    ]
    env["account.move.line"]._reconcile_plan(plan)
    return moves


def build_ledger(env, company, today):
    plan = plan_ledger(today)
    done = int(param(env, "bench.batches_done") or 0)
    n_batches = (N_CUSTOMERS + BATCH - 1) // BATCH
    misc = env["account.journal"].search(
        [("type", "=", "general"), ("company_id", "=", company.id)], limit=1
    )
    bank = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    )
    start_time = time.perf_counter()
    for b in range(done, n_batches):
        start, stop = b * BATCH, min((b + 1) * BATCH, N_CUSTOMERS)
        partners = create_customers(env, company, start, stop)
        rows = plan[start * N_INVOICES : stop * N_INVOICES]
        build_batch(
            env, company, partners, rows, today, misc.id, bank.default_account_id.id
        )
        param(env, "bench.batches_done", str(b + 1))
        env.cr.commit()
        env.invalidate_all()
        elapsed = time.perf_counter() - start_time
        per_batch = elapsed / (b + 1 - done)
        print(
            f"  batch {b + 1}/{n_batches}: {stop} customers, "
            f"{elapsed:.0f} s, ~{per_batch * (n_batches - b - 1):.0f} s left",
            flush=True,
        )


def main(env):
    if param(env, "bench.ledger_done"):
        print("ledger already complete")
        return
    start = time.perf_counter()
    today = date.fromisoformat(
        param(env, "bench.ledger_today") or date.today().isoformat()
    )
    company = setup_company(env, today)
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    print(f"company set up in {time.perf_counter() - start:.0f} s", flush=True)
    build_ledger(env, company, today)
    env.cr.execute("ANALYZE")
    param(env, "bench.ledger_done", "1")
    env.cr.commit()
    elapsed = time.perf_counter() - start
    print(f"ledger of {N_CUSTOMERS} x {N_INVOICES} built in {elapsed:.0f} s")


main(env)  # noqa: F821 - provided by odoo-bin shell
