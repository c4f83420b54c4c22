"""Demo data only: run by the post-init hook when the addon is installed with
demo data (never imported by the business models).

It gives the demo company of ``relance_demo.xml`` its chart of accounts (the
French one when ``l10n_fr_account`` is installed, which ``scripts/run`` and
``scripts/test`` install first; the generic one otherwise), a French collector,
customers of each profile with invoices dated from today (due soon, overdue by
various ages, partly paid, paid on time and late, one in dispute), their
payment scores, and a few days of dunning batches that leave a call overdue
and a letter waiting to be printed, so the product is visible at first login
whatever the day.

The invoices carry the company's default sale tax (20 % VAT on the French
chart), mapped by the customer's fiscal position (the German export customer:
intra-EU, 0 %). What the demo writes in a customer's or an invoice's chatter
(the batches' notes, a task done, a profile changed by the score, a dispute)
is written in that customer's language: French for the French customers,
English (or German) for the export customer.
"""

import os
from datetime import timedelta

from odoo import Command, fields
from odoo.modules.module import get_module_path

FRENCH = "fr_FR"
PARIS = "Europe/Paris"


def populate(company):
    """Fill the demo company (see the module's docstring)."""
    company.ensure_one()
    env = company.env
    _load_french(env)
    _load_chart(company)
    admin = env.ref("base.user_admin")
    admin.write(
        {
            "company_ids": [Command.link(company.id)],
            "company_id": company.id,
            "lang": FRENCH,
            "tz": PARIS,
        }
    )
    # The demo's notifications (activities assigned to the collector) wait in
    # the mail queue: nothing can be sent while Odoo installs (no SMTP server
    # yet; scripts/run starts its sink after the install).
    env = env(
        context=dict(
            env.context,
            allowed_company_ids=[company.id],
            lang="en_US",
            mail_notify_force_send=False,
        )
    )
    company = company.with_env(env)
    _create_bank_account(company)
    collector = _create_collector(company)
    customers = _set_up_customers(company, collector, admin)
    today = fields.Date.context_today(company)
    invoices = _create_invoices(company, customers, today)
    disputed = invoices["pixel_1"]
    env["relance.dispute"].with_context(lang=disputed.partner_id.lang).create(
        {
            "move_id": disputed.id,
            "reason": "late_delivery",
            "owner_id": admin.id,
            "note": "<p>Le site a été livré trois semaines après la date prévue.</p>",
        }
    )
    # Payment behaviour: Transports Rapides pays late and moves to the
    # at-risk profile, with a trace in its chatter.
    partners = env["res.partner"].concat(*customers.values())
    for group in _in_own_language(partners):
        group._relance_update_scores(company, today=today)
    _run_batches(company, customers, today)
    _create_promise_and_annotation(company, customers, today)
    _create_payment_plan(company, customers, today)
    _queue_failed_mails(env)


def _in_own_language(partners):
    """``partners`` grouped by language, each group in its language's context:
    the notes the addon posts (translated with ``_()`` in the current
    language) read as the customer reads."""
    return [
        group.with_context(lang=lang or "en_US")
        for lang, group in partners.grouped("lang").items()
    ]


def _load_french(env):
    """French active and its terms loaded, this addon's included (Odoo loads
    a module's terms before its post-init hook, but only for the languages
    active then), so French customers get French emails."""
    if not env["res.lang"]._lang_get(FRENCH).active:
        env["res.lang"]._activate_lang(FRENCH)
    env["ir.module.module"].search(
        ["|", ("state", "=", "installed"), ("name", "=", "relance_avancee")]
    )._update_translations([FRENCH])


def _load_chart(company):
    """The French chart (20 % VAT, SIREN/SIRET) when its localisation is
    installed, else the generic chart; the company stays in euros."""
    env = company.env
    french = env["ir.module.module"]._get("l10n_fr_account").state == "installed"
    env["account.chart.template"].try_loading(
        "fr" if french else "generic_coa", company, install_demo=False
    )
    company.currency_id = env.ref("base.EUR")  # the generic chart sets USD
    if "siret" in company._fields:  # l10n_fr's SIRET (its first 9 digits: SIREN)
        company.siret = "30326504500013"


def _create_bank_account(company):
    env = company.env
    env["res.partner.bank"].create(
        {
            "acc_number": "FR76 3000 4000 0300 0012 3456 789",
            "partner_id": company.partner_id.id,
            "company_id": company.id,
            "bank_id": env["res.bank"]
            .create({"name": "Banque Démo", "bic": "BDEMFRPPXXX"})
            .id,
        }
    )


def _create_collector(company):
    env = company.env
    collector = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": "Claire Recouvrement",
                "login": "claire.recouvrement@relance-demo.example.com",
                "email": "claire.recouvrement@relance-demo.example.com",
                "lang": FRENCH,
                "tz": PARIS,
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            env.ref("base.group_user").id,
                            env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )
    )
    env["ir.model.data"]._update_xmlids(
        [
            {
                "xml_id": "relance_avancee.relance_user_collector_demo",
                "record": collector,
                "noupdate": True,
            }
        ]
    )
    collector.partner_id.write(
        {"function": "Chargée de recouvrement", "phone": "+33 1 42 00 00 17"}
    )
    company.relance_default_collector_id = collector
    return collector


def _set_up_customers(company, collector, admin):
    env = company.env
    profiles = env["relance.profile"].search([("company_id", "=", company.id)])
    by_name = {profile.with_context(lang="en_US").name: profile for profile in profiles}
    # The export customer reads German when the addon speaks it, else English
    # (a German Odoo around English reminders would mix languages).
    module_path = get_module_path("relance_avancee")
    german = "de_DE" if os.path.isfile(f"{module_path}/i18n/de.po") else "en_US"
    if german == "de_DE":
        env["res.lang"]._activate_lang(german)
        env["ir.module.module"].search(
            ["|", ("state", "=", "installed"), ("name", "=", "relance_avancee")]
        )._update_translations([german])

    def customer(name, profile_name, lang=FRENCH, auto=True, **values):
        partner = env.ref(f"relance_avancee.relance_partner_{name}_demo")
        partner = partner.with_company(company)
        partner.write(
            dict(
                values,
                lang=lang,
                relance_profile_id=by_name[profile_name].id,
                relance_profile_auto=auto,
                relance_collector_id=collector.id,
            )
        )
        return partner

    return {
        "hexagone": customer("hexagone", "Key account", auto=False, user_id=admin.id),
        "nordwind": customer("nordwind", "Export customer", lang=german, auto=False),
        "martin": customer("martin", "Small business"),
        "dubois": customer("dubois", "Small business"),
        "rapides": customer("rapides", "Small business"),
        "pixel": customer("pixel", "Small business"),
    }


def _create_invoices(company, customers, today):
    env = company.env
    invoices = {}

    def day(offset):
        return today + timedelta(days=offset)

    def invoice(key, amount, due_in, label):
        """An invoice of ``amount`` before tax, created in its customer's
        language (its chatter's first note reads so)."""
        partner = customers[key.split("_")[0]]
        move = (
            env["account.move"]
            .with_context(lang=partner.lang)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": day(due_in - 30),
                    "invoice_date_due": day(due_in),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": label,
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.set(_get_sale_taxes(partner).ids)],
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        invoices[key] = move
        return move

    def pay(move, on, amount=None):
        values = {"payment_date": day(on)}
        if amount:
            values["amount"] = amount
        move.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create(values)._create_payments()

    invoice("hexagone_1", 48000.0, -35, "Déploiement logistique – phase 1")
    invoice("hexagone_2", 12500.0, 6, "Maintenance annuelle")
    invoice("nordwind_1", 8400.0, -20, "Freight forwarding, March")
    invoice("nordwind_2", 3200.0, 8, "Customs brokerage")
    invoice("martin_1", 1250.0, -4, "Fournitures de boulangerie")
    invoice("martin_2", 860.0, 7, "Farine bio, 20 sacs")
    pay(invoice("martin_3", 540.0, -40, "Levure et sel"), -42)
    pay(invoice("dubois_1", 2300.0, -15, "Restauration de mobilier"), -10, 1000.0)
    pay(invoice("dubois_2", 1800.0, -60, "Vernis et finitions"), -30)
    invoice("rapides_1", 3900.0, -70, "Transport Nantes – Lille")
    invoice("rapides_2", 2100.0, -12, "Transport Nantes – Rennes")
    pay(invoice("rapides_3", 1500.0, -100, "Transport Nantes – Paris"), -45)
    pay(invoice("rapides_4", 1700.0, -130, "Transport Nantes – Brest"), -70)
    invoice("pixel_1", 4200.0, -25, "Refonte du site web")
    invoice("pixel_2", 950.0, -9, "Shooting photo produits")
    env["ir.model.data"]._update_xmlids(
        [
            {
                "xml_id": f"relance_avancee.relance_invoice_{key}_demo",
                "record": move,
                "noupdate": True,
            }
            for key, move in invoices.items()
        ]
    )
    return invoices


def _get_sale_taxes(partner):
    """The company's default sale tax (20 % VAT on the French chart, found
    from the company's settings, not by xmlid: the generic chart has its own),
    as the customer's fiscal position maps it: the German export customer,
    with its VAT number, falls under intra-EU B2B (0 %, reverse charge)."""
    company = partner.env.company
    fiscal_position = (
        partner.env["account.fiscal.position"]
        .with_company(company)
        ._get_fiscal_position(partner)
    )
    return fiscal_position.map_tax(company.account_sale_tax_id)


def _run_batches(company, customers, today):
    """Five days of the daily batch, as the cron runs it: one run per day
    (Customers > Dunning > Daily runs), one chunk per language of its
    customers (see _serve_in_own_languages). Between the second and third runs
    the collector works her tasks: she sends Groupe Hexagone's friendly
    reminder (its call then falls due five days ago, and waits, overdue) and
    calls Transports Rapides (whose scenario then goes on to the reminder
    letter, waiting in Letters to print)."""
    env = company.env
    Run = env["relance.run"].with_context(relance_no_commit=True)
    for offset in (-30, -20, -12, -5, 0):
        if offset == -12:
            _mark_done(customers["hexagone"], today + timedelta(days=-15))
            _mark_done(customers["rapides"], today + timedelta(days=-18))
        _serve_in_own_languages(
            Run._get_or_start(company, today + timedelta(days=offset))
        )


def _serve_in_own_languages(run):
    """Serve ``run`` as :meth:`relance.run._serve` does, one chunk per language
    of its customers, each in that language: the notes the batch posts on the
    invoices (a letter queued, …) read as the customer reads. The cron serves
    a run in its user's language; the demo has customers in two languages."""
    if run.state == "done":
        return
    partners = run.env["res.partner"].browse(run.partner_ids_todo or [])
    groups = _in_own_language(partners)
    for group in groups:
        run.with_context(lang=group.env.lang)._process_chunk(group.ids)
    run.write(
        {
            "position": run.customer_count,
            "chunk_count": run.chunk_count + len(groups),
            "state": "done",
            "finished_at": fields.Datetime.now(),
        }
    )


def _mark_done(partner, day):
    """The customer's waiting task done by the collector on ``day``."""
    partner = partner.with_context(lang=partner.lang)
    comms = partner.env["relance.communication"].search(
        [("partner_id", "=", partner.id), ("state", "=", "todo")]
    )
    comms.action_mark_done()
    comms.history_ids.write({"done_date": day})


def _queue_failed_mails(env):
    """Mails the install tried to send before any SMTP server ran (the
    activities of Odoo's own demo data) go back to the queue: the mail cron
    sends them to scripts/run's sink once it runs."""
    mails = env["mail.mail"].search([("state", "=", "exception")])
    mails.write({"state": "outgoing", "failure_reason": False, "failure_type": False})
    env["mail.notification"].search(
        [("mail_mail_id", "in", mails.ids), ("notification_status", "=", "exception")]
    ).write(
        {"notification_status": "ready", "failure_type": False, "failure_reason": False}
    )


def _create_promise_and_annotation(company, customers, today):
    """Ébénisterie Dubois, reminded by email only, promised on the phone to pay
    the rest of its overdue invoice within ten days: an open promise (its
    reminders pause until then) and the collector's annotation on the
    invoice."""
    env = company.env
    dubois = customers["dubois"]
    invoice = env.ref("relance_avancee.relance_invoice_dubois_1_demo")
    collector = dubois.relance_collector_id or env.user
    env["relance.promise"].create(
        {
            "partner_id": dubois.id,
            "company_id": company.id,
            "move_ids": [Command.set(invoice.ids)],
            "date": today + timedelta(days=10),
            "amount": invoice.amount_residual,
            "user_id": collector.id,
            "origin": "call",
            "note": "Le gérant règle le solde par virement sous dix jours.",
        }
    )
    env["relance.annotation"].create(
        {
            "move_id": invoice.id,
            "kind": "payment_planned",
            "date": today + timedelta(days=10),
            "note": "Virement du solde annoncé par le gérant au téléphone.",
            "user_id": collector.id,
        }
    )


def _create_payment_plan(company, customers, today):
    """Boulangerie Martin, short of cash after a slow month, settles its
    overdue invoice in three monthly instalments from next week: a running
    payment plan (its invoice's reminders pause while it is paid on time) and
    the agreement in the mail queue, in French."""
    env = company.env
    martin = customers["martin"]
    invoice = env.ref("relance_avancee.relance_invoice_martin_1_demo")
    plan = (
        env["relance.payment.plan"]
        .with_context(lang=martin.lang)
        .create(
            {
                "partner_id": martin.id,
                "company_id": company.id,
                "move_ids": [Command.set(invoice.ids)],
                "instalment_count": 3,
                "first_date": today + timedelta(days=7),
                "interval": "monthly",
                "user_id": (martin.relance_collector_id or env.user).id,
                "note": "Trésorerie tendue après un mois creux : accord au téléphone.",
            }
        )
    )
    plan.action_compute_schedule()
    plan.action_confirm()
