"""One measurement of the comparison with OCA (run inside ``odoo-bin shell``).

``BENCH_CASE`` says which: ``scan`` (our scan and its SQL floor), ``batch`` (our
batch up to queued mails), ``cron`` (our batch through ``relance.run``, when
that model exists), ``oca`` (OCA: compute lines, mark to do, send by email),
``pdf_ours`` / ``pdf_oca`` (emails with PDFs for 100 customers). Each
measurement appends one JSON line per figure to ``BENCH_RESULTS``: wall time,
queries (every cursor of the process), peak memory of the process
(``ru_maxrss``) and its growth over the baseline taken after the environment
is loaded. The database is a throw-away copy of the template: nothing is
rolled back. Run it with ``bench/compare``.
"""

import json
import os
import resource
import time
from datetime import date

from odoo import Command, sql_db

CASE = os.environ["BENCH_CASE"]
RESULTS = os.environ["BENCH_RESULTS"]
PDF_CUSTOMERS = 100
# wkhtmltopdf fetches the stylesheets from report.url: nothing listens on this
# port, so PDFs are rendered unstyled (no Odoo server runs during the bench).
REPORT_URL = os.environ.get("BENCH_REPORT_URL", "http://127.0.0.1:9")


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bench:
    def __init__(self, env):
        self.env = env
        self.baseline = peak_mb()

    def measure(self, row, side, label, func, count=None, note=""):
        """Time ``func``; ``count(result)`` gives the communications/mails."""
        env = self.env
        mails_before = self.max_id("mail.mail")
        queries_before = sql_db.sql_counter
        cursor_before = env.cr.sql_log_count
        start = time.perf_counter()
        result = func()
        env.flush_all()
        elapsed = time.perf_counter() - start
        queries = sql_db.sql_counter - queries_before
        peak = peak_mb()
        mails = env["mail.mail"].search_count([("id", ">", mails_before)])
        figure = {
            "case": CASE,
            "row": row,
            "side": side,
            "label": label,
            "seconds": round(elapsed, 3),
            "queries": queries,
            "cursor_queries": env.cr.sql_log_count - cursor_before,
            "peak_mb": round(peak, 1),
            "delta_mb": round(peak - self.baseline, 1),
            "count": count(result) if count else None,
            "mails": mails,
            "note": note,
        }
        print(json.dumps(figure), flush=True)
        with open(RESULTS, "a", encoding="utf-8") as out:
            out.write(json.dumps(figure) + "\n")
        return result

    def skip(self, row, side, label, note):
        figure = {"case": CASE, "row": row, "side": side, "label": label}
        figure["note"] = note
        print(json.dumps(figure), flush=True)
        with open(RESULTS, "a", encoding="utf-8") as out:
            out.write(json.dumps(figure) + "\n")

    def max_id(self, model):
        self.env.cr.execute(
            f"SELECT COALESCE(MAX(id), 0) FROM {self.env[model]._table}"
        )
        return self.env.cr.fetchone()[0]


def floor_query(env, company):
    """The least any scan must do: one grouped query over the open receivables."""
    env.cr.execute(
        """
        SELECT l.move_id, m.commercial_partner_id, MIN(l.date_maturity),
               SUM(l.amount_residual)
          FROM account_move_line l
          JOIN account_move m ON m.id = l.move_id
          JOIN account_account a ON a.id = l.account_id
         WHERE l.company_id = %s
           AND l.parent_state = 'posted'
           AND a.account_type = 'asset_receivable'
           AND NOT l.reconciled
           AND l.amount_residual != 0
      GROUP BY l.move_id, m.commercial_partner_id
        """,
        [company.id],
    )
    return env.cr.fetchall()


def overdue_partner_ids(env, company, today, limit):
    """The first ``limit`` customers (by id) with an overdue open invoice."""
    env.cr.execute(
        """
        SELECT DISTINCT l.partner_id
          FROM account_move_line l
          JOIN account_account a ON a.id = l.account_id
         WHERE l.company_id = %s AND l.parent_state = 'posted'
           AND a.account_type = 'asset_receivable' AND NOT l.reconciled
           AND l.amount_residual > 0 AND l.date_maturity < %s
      ORDER BY l.partner_id
         LIMIT %s
        """,
        [company.id, today, limit],
    )
    return [row[0] for row in env.cr.fetchall()]


def set_attach_pdf(env, company, value):
    """Set the levels' invoice PDF option; ``False`` when the option is missing."""
    levels = env["relance.level"]
    if "attach_invoice_pdf" not in levels._fields:
        return False
    profile = company.relance_default_profile_id
    profile.level_ids.filtered(lambda lvl: lvl.channel == "email").write(
        {"attach_invoice_pdf": value}
    )
    return True


NO_OPTION = (
    "relance.level has no attach_invoice_pdf: our emails always carry the "
    "invoice PDFs (current code)"
)
STUBBED = (
    "relance.level has no attach_invoice_pdf and our emails always carry the "
    "invoice PDFs: their rendering is stubbed out here (BENCH_OUR_PDFS=real keeps "
    "it) so both sides send mails without PDFs; the PDF row measures that cost"
)


def without_pdfs(env, company):
    """Our batch with emails without PDFs, like OCA's batch row: through the
    levels' option when it exists, else by stubbing out the rendering in this
    process. Returns the note for the table."""
    if set_attach_pdf(env, company, False):
        return ""
    if os.environ.get("BENCH_OUR_PDFS") == "real":
        return NO_OPTION
    comm_class = env.registry["relance.communication"]
    comm_class._get_invoice_attachments = lambda self: []
    return STUBBED


def case_scan(bench, env, company, today):
    engine = env["relance.engine"]
    env.invalidate_all()
    bench.measure(
        "scan",
        "floor",
        "floor: one grouped SQL query",
        lambda: floor_query(env, company),
        count=len,
        note="count = open receivable moves",
    )
    env.invalidate_all()
    bench.measure(
        "scan",
        "ours",
        "our scan (cold cache)",
        lambda: engine._scan(company, today),
        count=lambda proposals: sum(1 for p in proposals if not p.skip_reason),
        note="count = communications proposed",
    )


def case_batch(bench, env, company, today):
    note = without_pdfs(env, company)
    env.invalidate_all()
    engine = env["relance.engine"].with_context(relance_no_commit=True)
    stats = bench.measure(
        "batch",
        "ours",
        "our batch up to queued mails",
        lambda: engine._run(company, today),
        count=lambda stats: stats.communications,
        note=note,
    )
    print(f"RunStats: {stats}")


def case_cron(bench, env, company, today):
    if "relance.run" not in env:
        bench.skip("cron", "ours", "our cron path", "no model relance.run yet")
        return
    note = without_pdfs(env, company)
    Run = env["relance.run"]
    domain = [("company_id", "=", company.id)] if "company_id" in Run._fields else []
    step = env["relance.engine"]._cron_run_batch
    if date.today() != today:
        # The cron serves the real date; its step can be given the ledger's.
        if not hasattr(Run, "_cron_step"):
            note += f" the cron served {date.today()}, not the ledger date {today}"
        else:
            note += " relance.run._cron_step(today=<ledger date>) called directly"

            def step():
                return Run._cron_step(today=today)

    comms_before = bench.max_id("relance.communication")

    def cron():
        calls = 0
        while calls < 100000:
            step()
            calls += 1
            run = Run.search(domain, order="id desc", limit=1)
            if run and run.state == "done":
                break
        comms = env["relance.communication"].search_count(
            [("id", ">", comms_before), ("company_id", "=", company.id)]
        )
        print(f"cron: {calls} calls, {comms} communications")
        return comms

    env.invalidate_all()
    bench.measure(
        "cron",
        "ours",
        "our cron path (relance.run)",
        cron,
        count=lambda comms: comms,
        note=note.strip(),
    )


def oca_generate(env, company, today):
    policy = company.credit_policy_id
    run = env["credit.control.run"].create(
        {
            "date": today,
            "company_id": company.id,
            "policy_ids": [Command.set(policy.ids)],
        }
    )
    run.generate_credit_lines()
    return run


def oca_mark(env, lines):
    marker = env["credit.control.marker"].create(
        {"name": "to_be_sent", "line_ids": [Command.set(lines.ids)]}
    )
    marker.mark_lines()
    return lines


def oca_send(env, lines):
    before = env["credit.control.communication"].search([], order="id desc", limit=1)
    emailer = env["credit.control.emailer"].create(
        {"line_ids": [Command.set(lines.ids)]}
    )
    emailer.email_lines()
    return env["credit.control.communication"].search([("id", ">", before.id or 0)])


def oca_template(env, with_pdf):
    template = env.ref("account_credit_control.email_template_credit_control_base")
    if not with_pdf:
        template.report_template_ids = [Command.clear()]
    return template


def case_oca(bench, env, company, today):
    oca_template(env, with_pdf=False)
    note = "OCA template without its summary PDF"
    env.invalidate_all()
    run = bench.measure(
        "batch",
        "oca_lines",
        "OCA compute credit lines",
        lambda: oca_generate(env, company, today),
        count=lambda run: len(run.line_ids),
        note="count = credit lines",
    )
    lines = run.line_ids
    bench.measure(
        "batch",
        "oca_mark",
        "OCA mark lines to do",
        lambda: oca_mark(env, lines),
        count=len,
        note="count = lines marked",
    )
    bench.measure(
        "batch",
        "oca_send",
        "OCA send by email",
        lambda: oca_send(env, lines.filtered(lambda line: line.channel == "email")),
        count=len,
        note=note,
    )


def case_pdf_ours(bench, env, company, today):
    note = "" if set_attach_pdf(env, company, True) else NO_OPTION
    partner_ids = overdue_partner_ids(env, company, today, PDF_CUSTOMERS)
    env.invalidate_all()
    engine = env["relance.engine"].with_context(relance_no_commit=True)
    bench.measure(
        "pdf",
        "ours",
        f"our batch, invoice PDFs, {len(partner_ids)} customers",
        lambda: engine._run(company, today, partner_ids=partner_ids),
        count=lambda stats: stats.communications,
        note=(note + " PDFs unstyled (no server for report.url)").strip(),
    )


def case_pdf_oca(bench, env, company, today):
    oca_template(env, with_pdf=True)
    partner_ids = set(overdue_partner_ids(env, company, today, PDF_CUSTOMERS))
    run = oca_generate(env, company, today)  # not timed: for every customer
    lines = run.line_ids.filtered(
        lambda line: line.partner_id.id in partner_ids and line.channel == "email"
    )
    env.invalidate_all()
    lines = lines.browse(lines.ids)

    def mark_and_send():
        oca_mark(env, lines)
        return oca_send(env, lines)

    bench.measure(
        "pdf",
        "oca",
        f"OCA mark + send, summary PDF, {len(partner_ids)} customers",
        mark_and_send,
        count=len,
        note="line computation (all customers) not timed; "
        "PDFs unstyled (no server for report.url)",
    )


CASES = {
    "scan": case_scan,
    "batch": case_batch,
    "cron": case_cron,
    "oca": case_oca,
    "pdf_ours": case_pdf_ours,
    "pdf_oca": case_pdf_oca,
}


def main(env):
    company = env.ref("base.main_company")
    icp = env["ir.config_parameter"].sudo()
    today = date.fromisoformat(icp.get_param("bench.ledger_today"))
    icp.set_param("report.url", REPORT_URL)
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    env.flush_all()
    bench = Bench(env)
    print(f"case {CASE}, ledger date {today}, baseline {bench.baseline:.0f} MB")
    CASES[CASE](bench, env, company, today)
    env.cr.commit()


main(env)  # noqa: F821 - provided by odoo-bin shell
