from datetime import timedelta

from odoo import _, api, fields, models
from odoo.osv import expression
from odoo.tools import format_date, plaintext2html


class MailActivity(models.Model):
    _inherit = "mail.activity"

    relance_communication_id = fields.Many2one(
        "relance.communication",
        string="Dunning communication",
        index="btree_not_null",
        ondelete="set null",
    )
    relance_reminded_date = fields.Date(
        string="Late task reminded on",
        readonly=True,
        copy=False,
        help="The day its responsible was reminded that this dunning task is "
        "late (once).",
    )
    relance_escalated_date = fields.Date(
        string="Late task escalated on",
        readonly=True,
        copy=False,
        help="The day this late dunning task was escalated to the customer's "
        "collector or a dunning manager (once).",
    )

    def write(self, vals):
        res = super().write(vals)
        if vals.get("user_id"):
            # A dunning task given to somebody else is theirs to do: the step
            # (and its history rows) follow the activity's new responsible.
            # sudo: the user may reassign the activity (checked by write above).
            comms = self.sudo().relance_communication_id.filtered(
                lambda c: c.state == "todo"
            )
            if comms:
                comms.write({"user_id": vals["user_id"]})
                comms.history_ids.filtered(lambda h: h.state == "todo").write(
                    {"user_id": vals["user_id"]}
                )
        return res

    def _action_done(self, feedback=False, attachment_ids=None):
        # A dunning task marked done records its step as done.
        if not self.env.context.get("relance_skip_activity_hook"):
            comms = self.relance_communication_id.filtered(lambda c: c.state == "todo")
            comms = comms._relance_as_actor()
            comms.with_context(relance_skip_activity_hook=True).write(
                {"activity_id": False}
            )
            comms._mark_sent(by_person=True)
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)

    def unlink(self):
        # Cancelling a dunning task (not marking it done) cancels its step.
        if not self.env.context.get("relance_skip_activity_hook"):
            comms = self.relance_communication_id.filtered(lambda c: c.state == "todo")
            comms = comms._relance_as_actor()
            comms.write({"activity_id": False})
            comms._set_state(
                "cancelled",
                reason=_("The activity was cancelled by %s.", self.env.user.name),
            )
        return super().unlink()

    # ------------------------------------------------------------------
    # Late dunning tasks: reminded, then escalated (once each)
    # ------------------------------------------------------------------

    @api.model
    def _relance_get_late_task_domain(self, company, today):
        """The open dunning tasks of ``company`` whose responsible must be
        reminded today, and those to escalate today (see the company's
        *Remind late tasks after* and *Escalate late tasks after*):
        ``(remind_domain, escalate_domain)``; ``None`` when switched off."""
        base = [
            ("relance_communication_id.company_id", "=", company.id),
            ("relance_communication_id.state", "=", "todo"),
        ]
        remind = escalate = None
        if company.relance_task_reminder_days > 0:
            remind = base + [
                ("relance_reminded_date", "=", False),
                (
                    "date_deadline",
                    "<=",
                    today - timedelta(days=company.relance_task_reminder_days),
                ),
            ]
            if company.relance_task_escalation_days > 0:
                escalate = base + [
                    ("relance_escalated_date", "=", False),
                    (
                        "relance_reminded_date",
                        "<=",
                        today - timedelta(days=company.relance_task_escalation_days),
                    ),
                ]
        return remind, escalate

    @api.model
    def _cron_relance_late_tasks(self, limit=200):
        """Daily: a dunning task left undone holds its customer's scenario
        (nothing escalates past it), so it must not be forgotten. Late by the
        company's delay, it is reminded to its responsible (a note on the
        customer that notifies them); still not done after the second delay,
        it is escalated with an activity to the customer's collector or a
        dunning manager. Each happens once; at most ``limit`` tasks per call,
        the cron is called again for the rest."""
        # sudo: a system job over every company's tasks, whoever triggers it.
        self = self.sudo()  # noqa: PLW0642
        today = fields.Date.context_today(self)
        todo = []
        for company in self.env["res.company"].search([("relance_enabled", "=", True)]):
            remind, escalate = self._relance_get_late_task_domain(company, today)
            if remind:
                todo.append((company, "remind", remind))
            if escalate:
                todo.append((company, "escalate", escalate))
        counts = [self.search_count(domain) for _company, _kind, domain in todo]
        total = sum(counts)
        done = 0
        # Letters wait in Letters to print without an activity: late, their
        # customer's collector is asked to print them (once per letter).
        Comm = self.env["relance.communication"]
        letters = Comm.search(
            self._relance_get_late_letters_domain(today), order="id", limit=limit
        )
        total += Comm.search_count(self._relance_get_late_letters_domain(today))
        letters._relance_remind_late_letters(today)
        done += len(letters)
        for (company, kind, domain), count in zip(todo, counts, strict=True):
            if not count or done >= limit:
                continue
            activities = self.search(domain, limit=limit - done, order="id")
            if kind == "remind":
                activities._relance_remind_late(company, today)
            else:
                activities._relance_escalate_late(company, today)
            done += len(activities)
        self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)
        return done

    @api.model
    def _relance_get_late_letters_domain(self, today):
        """Letters and formal notices still to print, without an activity,
        older than their company's *Remind late tasks after* and never
        reminded (one domain for every company: the delay is per company)."""
        clauses = []
        for company in self.env["res.company"].search(
            [("relance_enabled", "=", True), ("relance_task_reminder_days", ">", 0)]
        ):
            clauses.append(
                [
                    ("company_id", "=", company.id),
                    (
                        "date",
                        "<=",
                        today - timedelta(days=company.relance_task_reminder_days),
                    ),
                ]
            )
        if not clauses:
            return expression.FALSE_DOMAIN
        return expression.AND(
            [
                [
                    ("channel", "in", ("letter", "formal_notice")),
                    ("state", "=", "todo"),
                    ("activity_id", "=", False),
                    ("late_reminded_date", "=", False),
                ],
                expression.OR(clauses),
            ]
        )

    def _relance_late_days(self, today):
        self.ensure_one()
        return (today - self.date_deadline).days

    def _relance_remind_late(self, company, today):
        """Remind their responsible of these late dunning tasks: one note on
        each customer, notifying the responsible, in their language."""
        # Read once for the whole batch.
        self.mapped("user_id.partner_id")
        self.relance_communication_id.partner_id.mapped("name")
        for activity in self:
            user = activity.user_id
            comm = activity.relance_communication_id
            env_lang = activity.with_context(lang=user.lang or self.env.lang).env
            body = env_lang._(
                "Reminder: the dunning task %(task)s, due on %(date)s, is %(days)s "
                "days late. The customer's scenario waits for it: do it, or "
                "cancel it to let the scenario go on.",
                task=activity.summary or comm.display_name,
                date=format_date(env_lang, activity.date_deadline),
                days=activity._relance_late_days(today),
            )
            comm.partner_id.message_post(
                body=plaintext2html(body),
                subtype_xmlid="mail.mt_note",
                partner_ids=user.partner_id.ids,
            )
        self.write({"relance_reminded_date": today})

    def _relance_get_escalation_user(self, company, managers):
        """Who a late task is escalated to: the customer's collector, else
        the company's default collector, else a dunning manager; never the
        responsible who left it undone (unless nobody else)."""
        self.ensure_one()
        partner = self.relance_communication_id.partner_id.with_company(company)
        for user in (
            partner.relance_collector_id,
            company.relance_default_collector_id,
            *managers,
        ):
            if (
                user
                and user != self.user_id
                and user.active
                and not user.share
                and company in user.company_ids
            ):
                return user
        return self.user_id

    def _relance_escalate_late(self, company, today):
        """Escalate these late dunning tasks: one *Late dunning task* activity
        each, created in one batch, for the escalation user."""
        managers = self.env["relance.digest"]._get_digest_managers(company)
        activity_type = self.env.ref(
            "relance_avancee.mail_activity_type_relance_late_task"
        )
        model_id = self.env["ir.model"]._get_id("res.partner")
        vals_list = []
        for activity in self:
            user = activity._relance_get_escalation_user(company, managers)
            comm = activity.relance_communication_id
            env_lang = activity.with_context(lang=user.lang or self.env.lang).env
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": comm.partner_id.id,
                    "activity_type_id": activity_type.id,
                    "date_deadline": today,
                    "summary": env_lang._("Late: %s", activity.summary or ""),
                    "note": plaintext2html(
                        env_lang._(
                            "The dunning task %(task)s of %(user)s, due on "
                            "%(date)s, is %(days)s days late although it was "
                            "reminded on %(reminded)s. The customer's scenario "
                            "waits for it: see that it is done, reassign it or "
                            "cancel it.",
                            task=activity.summary or comm.display_name,
                            user=activity.user_id.name,
                            date=format_date(env_lang, activity.date_deadline),
                            days=activity._relance_late_days(today),
                            reminded=format_date(
                                env_lang, activity.relance_reminded_date
                            ),
                        )
                    ),
                    "user_id": user.id,
                }
            )
        self.create(vals_list)
        self.write({"relance_escalated_date": today})
