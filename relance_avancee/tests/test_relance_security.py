"""Security: nobody sees, runs, previews or prints what is not theirs.

Company B's dunning (customers, invoices, history, communications, disputes,
promises, calls, payment plans, runs, wizards, reports) is created as the
administrator; a Dunning manager of company A alone, a salesperson without the
dunning groups, a portal user and a public visitor then try to reach it. The
checks loop over every ``relance.*`` model of the registry, so a model added
later is covered without touching this file. Customer-typed text (an invoice
reference, a customer name, a dispute or call note) holding HTML or a script
comes out escaped everywhere the addon writes it. Finally, every ``sudo()`` of
the addons carries a comment saying why it is safe.
"""

import inspect
import re
from datetime import date
from pathlib import Path

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import RelanceCommon

DUE = date(2026, 3, 31)
SCRIPT = "<script>alert(1)</script>"
BOLD = "<b>x</b>"
REFUSED = (AccessError, UserError, ValidationError)
# Shared reference data, the same for every company: no company to isolate.
SHARED_MODELS = {
    "relance.interest.rate": "the ECB rate table is the same for every company",
}


def relance_models(env):
    """Every concrete ``relance.*`` model installed (new models included)."""
    names = env["ir.model"].search([("model", "=like", "relance.%")]).mapped("model")
    return sorted(name for name in names if name in env and not env[name]._abstract)


class RelanceSecurityCommon(RelanceCommon):
    """Company B with a customer whose dunning went through every model, and
    company-A users of each kind."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B Security")["company"]
        cls.company_b.write(
            {"email": "b@example.com", "country_id": cls.env.ref("base.fr").id}
        )
        cls.env_b = cls.env(
            context=dict(cls.env.context, allowed_company_ids=cls.company_b.ids)
        )
        env_b = cls.env_b
        cls.profile_b = cls.company_b.relance_default_profile_id
        cls.partner_b = env_b["res.partner"].create(
            {
                "name": "Customer Of B Only",
                "company_id": cls.company_b.id,
                "is_company": True,
                "email": "only.b@example.com",
                "mobile": "+33 6 12 34 56 78",
                "street": "2 rue de B",
                "zip": "75003",
                "city": "Paris",
                "country_id": cls.env.ref("base.fr").id,
                "lang": "en_US",
            }
        )
        cls.partner_b.with_company(cls.company_b).write(
            {"relance_profile_id": cls.profile_b.id, "relance_profile_auto": False}
        )
        # A contact shared by every company, invoiced by company B only.
        cls.shared_partner = cls._create_customer("Shared Customer", cls.profile_sme)
        cls.shared_partner.with_company(cls.company_b).write(
            {"relance_profile_id": cls.profile_b.id, "relance_profile_auto": False}
        )
        cls.invoice_b = cls._invoice_b(cls.partner_b, 900.0)
        cls.invoice_b_2 = cls._invoice_b(cls.partner_b, 400.0)
        cls.invoice_shared = cls._invoice_b(cls.shared_partner, 700.0)
        engine_b = env_b["relance.engine"].with_company(cls.company_b)
        for day in (date(2026, 3, 24), date(2026, 4, 3)):
            with freeze_time(day):
                engine_b._run(cls.company_b, day)
        cls.history_b = env_b["relance.history"].search(
            [("company_id", "=", cls.company_b.id)]
        )
        cls.comm_b = cls.history_b.communication_id
        assert cls.history_b and cls.comm_b, "company B's batch recorded nothing"
        admin_id = cls.env.ref("base.user_admin").id
        cls.dispute_b = env_b["relance.dispute"].create(
            {
                "move_id": cls.invoice_b_2.id,
                "reason": "not_received",
                "owner_id": admin_id,
            }
        )
        cls.promise_b = env_b["relance.promise"].create(
            {
                "company_id": cls.company_b.id,
                "partner_id": cls.partner_b.id,
                "date": date(2026, 4, 20),
                "amount": 900.0,
                "move_ids": [Command.set(cls.invoice_b.ids)],
            }
        )
        cls.call_b = env_b["relance.call"].create(
            {
                "company_id": cls.company_b.id,
                "partner_id": cls.partner_b.id,
                "user_id": admin_id,
                "outcome": "reached",
                "note": "Called B",
            }
        )
        cls.plan_b = env_b["relance.payment.plan"].create(
            {
                "company_id": cls.company_b.id,
                "partner_id": cls.partner_b.id,
                "move_ids": [Command.set(cls.invoice_b.ids)],
                "first_date": date(2026, 4, 30),
            }
        )
        with freeze_time("2026-04-03"):
            cls.plan_b.action_compute_schedule()
        cls.run_b = (
            env_b["relance.run"]
            .sudo()
            .create({"company_id": cls.company_b.id, "date": date(2026, 4, 3)})
        )
        cls.dashboard_b = env_b["relance.kpi.dashboard"].create(
            {"company_id": cls.company_b.id}
        )
        with freeze_time("2026-04-03"):
            cls.preview_b = env_b["relance.preview.wizard"].create(
                {"company_id": cls.company_b.id, "date": date(2026, 4, 20)}
            )
            cls.preview_b.action_refresh()
        cls.dispute_wizard_b = env_b["relance.dispute.wizard"].create(
            {"move_id": cls.invoice_b.id, "reason": "not_received", "note": "B"}
        )
        cls.handover_b = env_b["relance.handover.wizard"].create(
            {"company_id": cls.company_b.id, "partner_id": cls.partner_b.id}
        )
        cls.call_wizard_b = env_b["relance.call.wizard"].create(
            {"company_id": cls.company_b.id, "partner_id": cls.partner_b.id}
        )
        cls.letter_b = (
            env_b["relance.communication"]
            .sudo()
            .create(
                {
                    "name": "Letter of B",
                    "company_id": cls.company_b.id,
                    "partner_id": cls.partner_b.id,
                    "level_id": cls.profile_b.level_ids.filtered(
                        lambda level: level.channel == "letter"
                    )[:1].id,
                    "channel": "letter",
                    "date": date(2026, 4, 3),
                }
            )
        )
        cls.print_wizard_b = env_b["relance.print.wizard"].create(
            {"communication_ids": [Command.set(cls.letter_b.ids)]}
        )
        cls.env.flush_all()

        # Company A's users, the least privileged that can reach each thing.
        cls.manager_a = new_test_user(
            cls.env,
            login="security_manager_a",
            groups="base.group_user,relance_avancee.group_relance_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.salesperson_a = new_test_user(
            cls.env,
            login="security_salesperson_a",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.billing_a = new_test_user(
            cls.env,
            login="security_billing_a",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.portal_user = new_test_user(
            cls.env, login="security_portal", groups="base.group_portal"
        )
        cls.public_user = cls.env(su=True).ref("base.public_user")

    @classmethod
    def _invoice_b(cls, partner, amount):
        move = (
            cls.env_b["account.move"]
            .with_company(cls.company_b)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": date(2026, 3, 1),
                    "invoice_date_due": DUE,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Services",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    def assertRefused(self, function, msg=None):
        """``function()`` raises an access, user or validation error; what it
        did before raising is rolled back."""
        with self.env.cr.savepoint(), mute_logger("odoo.models"):
            try:
                function()
            except REFUSED:
                return
        self.fail(f"not refused: {msg or function}")

    def _records_of_company_b(self, model_name):
        """Company B's records of ``model_name`` (read as the administrator):
        by its company, else by the first relation to a model with one."""
        Model = self.env[model_name].sudo().with_context(active_test=False)
        if "company_id" in Model._fields and Model._fields["company_id"].store:
            return Model.search([("company_id", "=", self.company_b.id)])
        for name, field in sorted(Model._fields.items()):
            if (
                field.type in ("many2one", "many2many")
                and field.store
                and "company_id" in self.env[field.comodel_name]._fields
            ):
                records = Model.search([(f"{name}.company_id", "=", self.company_b.id)])
                if records:
                    return records
        return Model.browse()


@tagged("post_install", "-at_install")
class TestRelanceSecurityCompanies(RelanceSecurityCommon):
    """Company A's users see and do nothing of company B."""

    def test_every_model_has_a_company_rule(self):
        """A model with a company has a global multi-company rule; one without
        reaches its company through a rule on a relation."""
        Rule = self.env["ir.rule"].sudo()
        missing = []
        for name in relance_models(self.env):
            if name in SHARED_MODELS:
                continue
            rules = Rule.search([("model_id.model", "=", name), ("groups", "=", False)])
            if not any("company_ids" in (rule.domain_force or "") for rule in rules):
                missing.append(name)
        self.assertFalse(missing, "relance models without a multi-company rule")

    def test_company_a_manager_sees_nothing_of_company_b(self):
        covered = []
        for name in relance_models(self.env):
            if name in SHARED_MODELS:
                continue
            records = self._records_of_company_b(name)
            if not records:
                continue
            covered.append(name)
            Model = self.env[name].with_user(self.manager_a)
            self.assertFalse(
                Model.search([("id", "in", records.ids)]),
                f"{name}: company B's records found from company A",
            )
            self.assertFalse(Model.search_count([("id", "in", records.ids)]))
            with self.assertRaises(AccessError, msg=name):
                records.with_user(self.manager_a).read(["display_name"])
        # The fixture reaches every model of the addon that holds data.
        for name in (
            "relance.history",
            "relance.communication",
            "relance.dispute",
            "relance.promise",
            "relance.call",
            "relance.payment.plan",
            "relance.payment.plan.line",
            "relance.run",
            "relance.customer.balance",
            "relance.kpi.aged",
            "relance.kpi.dashboard",
            "relance.preview.wizard",
            "relance.preview.line",
            "relance.dispute.wizard",
            "relance.handover.wizard",
            "relance.call.wizard",
            "relance.print.wizard",
            "relance.profile",
            "relance.level",
        ):
            if name in self.env:
                self.assertIn(name, covered)

    def test_portal_and_public_have_no_access_to_any_model(self):
        for user in (self.portal_user, self.public_user):
            Access = self.env(user=user.id, su=False)["ir.model.access"]
            for name in relance_models(self.env):
                for operation in ("read", "write", "create", "unlink"):
                    self.assertFalse(
                        Access.check(name, operation, raise_exception=False),
                        f"{user.login} may {operation} {name}",
                    )

    def test_reports_of_company_b_cannot_be_rendered_from_company_a(self):
        Report = self.env["ir.actions.report"]
        reports = Report.search([("report_name", "=like", "relance_avancee.%")])
        self.assertTrue(reports)
        for report in reports:
            records = (
                self.partner_b
                if report.model == "res.partner"
                else self._records_of_company_b(report.model)
            )
            self.assertTrue(records, report.report_name)
            for user in (self.manager_a, self.billing_a, self.salesperson_a):
                self.assertRefused(
                    # The real PDF path (under --test-enable Odoo would render
                    # HTML): refused before wkhtmltopdf is ever called.
                    lambda user=user, report=report, records=records: (
                        Report.with_user(user)
                        .with_context(force_report_rendering=True)
                        ._render_qweb_pdf(report.report_name, records.ids)
                    ),
                    report.report_name,
                )

    def test_wizards_cannot_be_opened_on_company_b(self):
        user = self.manager_a

        def preview():
            wizard = (
                self.env["relance.preview.wizard"]
                .with_user(user)
                .create({"company_id": self.company_b.id, "date": DUE})
            )
            wizard.action_refresh()
            # Should the wizard open, it must show nothing of company B.
            self.assertFalse(wizard.line_ids)

        self.assertRefused(preview, "preview")
        self.assertRefused(
            lambda: (
                self.env["relance.print.wizard"]
                .with_user(user)
                .with_context(
                    active_model="relance.communication", active_ids=self.letter_b.ids
                )
                .create({})
                .action_print()
            ),
            "print",
        )
        self.assertRefused(
            lambda: (
                self.env["relance.handover.wizard"]
                .with_user(user)
                .create(
                    {"company_id": self.company.id, "partner_id": self.partner_b.id}
                )
                .action_confirm()
            ),
            "handover",
        )
        self.assertRefused(
            lambda: self.partner_b.with_user(user).action_relance_log_call(), "call"
        )
        self.assertRefused(
            lambda: (
                self.env["relance.call.wizard"]
                .with_user(user)
                .create(
                    {
                        "company_id": self.company_b.id,
                        "partner_id": self.partner_b.id,
                        "note": "x",
                    }
                )
                .action_log()
            ),
            "call wizard",
        )
        self.assertRefused(
            lambda: (
                self.env["relance.dispute.wizard"]
                .with_user(user)
                .create({"move_id": self.invoice_b.id, "reason": "not_received"})
                .action_confirm()
            ),
            "dispute",
        )
        self.assertRefused(
            lambda: (
                self.env["ir.actions.report"]
                .with_user(user)
                .with_context(force_report_rendering=True)
                ._render_qweb_pdf(
                    "relance_avancee.report_relance_statement", self.partner_b.ids
                )
            ),
            "statement",
        )
        self.assertFalse(self.invoice_b.relance_dispute_ids)
        self.assertEqual(
            self.partner_b.with_company(self.company_b).relance_handover_state, "none"
        )

    def test_sql_backed_fields_of_company_b_stay_in_company_b(self):
        fields_read = [
            "relance_total_due",
            "relance_total_overdue",
            "relance_total_disputed",
            "relance_oldest_overdue_days",
            "relance_history_count",
            "relance_dispute_count",
        ]
        shared_b = self.shared_partner.with_company(self.company_b)
        with freeze_time("2026-04-03"):
            self.assertGreater(shared_b.relance_total_overdue, 0)
            values = self.shared_partner.with_user(self.manager_a).read(fields_read)[0]
        for name in fields_read:
            self.assertFalse(values[name], f"{name} leaks company B's figure")
        with self.assertRaises(AccessError):
            self.partner_b.with_user(self.manager_a).read(fields_read)
        # Searching on the SQL-backed amount finds nothing of company B.
        found = (
            self.env["res.partner"]
            .with_user(self.manager_a)
            .search([("relance_total_overdue", ">", 0)])
        )
        self.assertNotIn(self.shared_partner, found)

    def _snapshot(self):
        """What an action could change: every row of the addon's tables in
        company B and company B's mail, activities and customers' fields."""
        env = self.env_b(su=True)
        env.flush_all()
        state = {}
        for name in relance_models(self.env):
            Model = env[name]
            if not Model._auto or Model._transient:
                continue
            records = self._records_of_company_b(name)
            stored = [
                fname
                for fname, field in Model._fields.items()
                if field.store and fname not in ("write_date", "__last_update")
            ]
            state[name] = records.read(stored) if records else []
        for name in ("mail.mail", "mail.activity", "sms.sms", "ir.attachment"):
            state[name] = env[name].search_count([])
        state["messages"] = env["mail.message"].search_count([])
        state["partner_b"] = self.partner_b.with_company(self.company_b).read(
            [
                "relance_profile_id",
                "relance_excluded",
                "relance_handover_state",
                "relance_score",
            ]
        )
        state["invoices_b"] = (self.invoice_b | self.invoice_b_2).read(
            ["relance_cycle", "relance_in_dispute", "state"]
        )
        return state

    def _addon_actions(self):
        """``{model: [action names]}``: every public ``action_*`` method
        defined or overridden by the dunning addons, on any model."""
        result = {}
        for name in self.env.registry:
            Model = self.env[name]
            if Model._abstract:
                continue
            names = []
            for attr in dir(type(Model)):
                if not attr.startswith("action_"):
                    continue
                for klass in type(Model).__mro__:
                    if attr in vars(klass):
                        module = inspect.getmodule(klass)
                        if module and module.__name__.startswith(
                            "odoo.addons.relance_avancee"
                        ):
                            names.append(attr)
                            break
            if names:
                result[name] = sorted(set(names))
        return result

    def _record_of_company_b(self, model_name):
        if model_name == "res.partner":
            return self.partner_b
        if model_name == "account.move":
            return self.invoice_b
        return self._records_of_company_b(model_name)[:1]

    def test_actions_check_rights_and_company(self):
        """Every public action of the addon called through RPC on company B's
        records, by a salesperson without dunning rights, by company A's
        billing user (a Dunning user with the invoices' rights) and by its
        Dunning manager, is refused and changes nothing."""
        actions = self._addon_actions()
        self.assertIn("action_relance_preview", actions["res.partner"])
        before = self._snapshot()
        called = []
        not_covered = []
        for model_name, names in sorted(actions.items()):
            record = self._record_of_company_b(model_name)
            if not record:
                not_covered.append(model_name)
                continue
            for user in (self.salesperson_a, self.billing_a, self.manager_a):
                for name in names:
                    method = getattr(record.with_user(user), name)
                    if list(inspect.signature(method).parameters):
                        # Called by the web client without argument only.
                        params = inspect.signature(method).parameters.values()
                        if any(p.default is p.empty for p in params):
                            continue
                    with (
                        self.subTest(model=model_name, action=name, user=user.login),
                        freeze_time("2026-04-20"),
                    ):
                        # An RPC call starts with an empty cache: nothing read
                        # as the administrator may answer for the user.
                        self.env.invalidate_all()
                        self.assertRefused(method, f"{model_name}.{name}")
                    called.append((model_name, name))
        self.assertGreater(len(called), 20)
        self.env.invalidate_all()
        self.assertEqual(self._snapshot(), before)
        # The kpi and transient models hold no action of another company.
        self.assertNotIn("relance.history", not_covered)


@tagged("post_install", "-at_install")
class TestRelanceSecurityEscaping(RelanceCommon):
    """Customer-typed HTML comes out as text wherever the addon writes it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls._create_customer(
            f"Evil {SCRIPT} {BOLD}", cls.profile_risk, email="evil@example.com"
        )
        cls.invoice = cls._invoice(cls.partner, 500.0, DUE)
        cls.invoice.write({"ref": f"REF {SCRIPT} {BOLD}"})
        cls.invoice.payment_reference = f"PAY {SCRIPT}"

    def assertEscaped(self, html, what):
        html = str(html)
        self.assertNotIn(SCRIPT, html, f"{what}: script tag left raw")
        self.assertNotIn(BOLD, html, f"{what}: markup of user text left raw")
        self.assertIn("&lt;script&gt;", html, f"{what}: user text missing")

    def test_email_sms_chatter_and_activity_escape_user_text(self):
        for day in (date(2026, 3, 23), date(2026, 4, 1), date(2026, 4, 5)):
            with freeze_time(day):
                self._run(day, self.partner)
        mails = self._mails(self.partner)
        self.assertTrue(mails)
        for mail in mails:
            self.assertEscaped(mail.body_html, "email body")
            self.assertNotIn("<script", mail.subject or "")
        # The SMS is plain text: the name is written as typed, never markup.
        sms = self.env["sms.sms"].search([("partner_id", "=", self.partner.id)])
        self.assertTrue(sms)
        for record in sms:
            self.assertNotIn("&lt;", record.body)
        messages = self.partner.message_ids.filtered(
            lambda m: (
                m.message_type in ("comment", "sms", "notification")
                and "alert" in (m.body or "")
            )
        )
        self.assertTrue(messages)
        for message in messages:
            self.assertEscaped(message.body, "chatter")
        activity = self.partner.activity_ids.filtered(
            lambda a: a.relance_communication_id
        )
        self.assertTrue(activity, "the risk profile's phone step is an activity")
        # The summary is plain text (shown escaped by the web client); the
        # note is HTML.
        self.assertNotIn(SCRIPT, str(activity.note or ""))
        self.assertNotIn(BOLD, str(activity.note or ""))

    def test_letter_and_banner_escape_user_text(self):
        with freeze_time("2026-04-20"):
            html = self.env["ir.actions.report"]._render_qweb_html(
                "relance_avancee.report_relance_letter", self.partner.ids
            )[0]
            self.assertEscaped(html.decode(), "letter")
            # The banner names the scenario's steps, typed by a manager.
            for level in self.profile_risk.level_ids:
                level.name = f"{level.name} {SCRIPT} {BOLD}"
            banner = self.invoice.with_user(self.collector).relance_banner
        self.assertTrue(banner, "the overdue invoice shows the banner")
        self.assertEscaped(banner, "banner")

    def test_dispute_and_call_notes_are_escaped(self):
        with freeze_time("2026-04-05"):
            self.env["relance.dispute.wizard"].create(
                {
                    "move_id": self.invoice.id,
                    "reason": "not_received",
                    "note": f"<p>Lost {SCRIPT} {BOLD}</p>",
                }
            ).action_confirm()
            dispute = self.invoice.relance_dispute_ids
            self.assertNotIn("<script", str(dispute.note))
            wizard = self.env["relance.call.wizard"].create(
                {
                    "company_id": self.company.id,
                    "partner_id": self.partner.id,
                    "outcome": "reached",
                    "note": f"Said {SCRIPT} {BOLD}",
                    "next_date": date(2026, 4, 8),
                }
            )
            wizard.action_log()
        note = self.partner.message_ids.filtered(lambda m: "Said" in (m.body or ""))
        self.assertTrue(note)
        self.assertEscaped(note[0].body, "call note in the chatter")
        follow_up = self.partner.activity_ids.filtered(
            lambda a: "Said" in str(a.note or "")
        )
        self.assertTrue(follow_up)
        self.assertEscaped(follow_up.note, "call follow-up activity")
        call = self.env["relance.call"].search([("partner_id", "=", self.partner.id)])
        self.assertEqual(call.note, f"Said {SCRIPT} {BOLD}")


@tagged("post_install", "-at_install")
class TestRelanceSecurityTemplates(RelanceCommon):
    def test_template_code_needs_the_template_editor_group(self):
        """Like Odoo's test_mail: a Dunning manager outside the template
        editors cannot put code in one of our templates."""
        editor = self.env.ref("mail.group_mail_template_editor")
        self.env.ref("base.group_user").write(
            {"implied_ids": [Command.unlink(editor.id)]}
        )
        manager = new_test_user(
            self.env,
            login="security_template_manager",
            groups="base.group_user,relance_avancee.group_relance_manager",
            company_id=self.company.id,
        )
        self.assertFalse(manager.has_group("mail.group_mail_template_editor"))
        template = self.env["mail.template"].browse(
            self.env["ir.model.data"]
            .search(
                [("module", "=", "relance_avancee"), ("model", "=", "mail.template")],
                limit=1,
            )
            .res_id
        )
        self.assertTrue(template, "a dunning email template")
        # Assigned to the manager: Odoo lets them edit it, but not with code.
        template.user_id = manager
        as_manager = template.with_user(manager)
        for values in (
            {"body_html": '<p t-out="object.sudo().env.user.password"/>'},
            {"subject": "{{ object.env.user.login }}"},
        ):
            with self.assertRaises(AccessError, msg=str(values)):
                as_manager.write(values)
        with self.assertRaises(AccessError):
            as_manager.copy({"body_html": '<p t-out="object.env.user.login"/>'})
        # A template editor may.
        manager.groups_id = [Command.link(editor.id)]
        as_manager.write({"subject": "{{ object.name }}"})
        self.assertEqual(template.subject, "{{ object.name }}")


@tagged("post_install", "-at_install")
class TestRelanceSecuritySudo(RelanceCommon):
    def test_every_sudo_says_why_it_is_safe(self):
        """No ``sudo()`` in the addons' code without a comment mentioning
        ``sudo`` on its line or within the 6 lines above (``sudo(False)``
        drops rights and needs none)."""
        root = Path(__file__).resolve().parents[2]
        missing = []
        for path in sorted(root.glob("relance_avancee*/**/*.py")):
            if "tests" in path.relative_to(root).parts:
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines):
                code = line.split("#", 1)[0]
                if not re.search(r"\bsudo\((?!False\))", code):
                    continue
                window = lines[max(0, number - 6) : number + 1]
                if not any(
                    "#" in text and "sudo" in text.split("#", 1)[1].lower()
                    for text in window
                ):
                    missing.append(f"{path.relative_to(root)}:{number + 1}")
        self.assertFalse(missing, "sudo() without a comment saying why")


@tagged("post_install", "-at_install")
class TestRelanceSecurityHttp(HttpCase):
    """The dunning screens and reports need a login; another company's
    customer's letter is refused."""

    def test_routes_need_login(self):
        for url in (
            "/odoo/action-relance_avancee.relance_history_action",
            "/odoo/action-relance_avancee.relance_communication_action",
        ):
            response = self.url_open(url, allow_redirects=False)
            self.assertIn(response.status_code, (302, 303), url)
            self.assertIn("/web/login", response.headers.get("Location", ""))
        partner = self.env["res.partner"].search([], limit=1)
        url = f"/report/pdf/relance_avancee.report_relance_letter/{partner.id}"
        response = self.url_open(url, allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers.get("Location", ""))

    def test_report_route_refuses_another_company(self):
        company_b = self.env["res.company"].create({"name": "Route Company B"})
        partner_b = self.env["res.partner"].create(
            {"name": "Route Customer B", "company_id": company_b.id}
        )
        company_a = self.env.ref("base.main_company")
        new_test_user(
            self.env,
            login="security_route_manager",
            password="security_route_manager",
            groups="base.group_user,relance_avancee.group_relance_manager",
            company_id=company_a.id,
            company_ids=[Command.set(company_a.ids)],
        )
        self.authenticate("security_route_manager", "security_route_manager")
        with mute_logger("odoo.http", "odoo.addons.web.controllers.report"):
            response = self.url_open(
                f"/report/pdf/relance_avancee.report_relance_letter/{partner_b.id}"
            )
        self.assertNotEqual(response.headers.get("Content-Type"), "application/pdf")
        self.assertNotIn(b"Route Customer B", response.content)
