from datetime import date

from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class RelanceCommon(AccountTestInvoicingCommon):
    """A company with the shipped profiles, customers and helpers to invoice,
    pay and run the dunning batch at a given date."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write(
            {
                "country_id": cls.env.ref("base.fr").id,
                "email": "compta@example.com",
                "phone": "+33 1 40 00 00 00",
            }
        )
        Profile = cls.env["relance.profile"]
        profiles = Profile.search([("company_id", "=", cls.company.id)])
        cls.profile_key = profiles.filtered(lambda p: p.manual)
        cls.profile_sme = cls.company.relance_default_profile_id
        cls.profile_risk = profiles.filtered(
            lambda p: p.use_score_range and p.score_max < 50
        )
        cls.profile_export = (
            profiles - cls.profile_key - cls.profile_sme - cls.profile_risk
        )
        cls.collector = cls.env["res.users"].create(
            {
                "name": "Colette Collector",
                "login": "colette_collector",
                "email": "colette@example.com",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref("relance_avancee.group_relance_user").id,
                        ]
                    )
                ],
            }
        )
        cls.engine = cls.env["relance.engine"]

    @classmethod
    def _create_customer(cls, name, profile=None, **values):
        vals = {
            "name": name,
            "is_company": True,
            "email": f"{name.lower().replace(' ', '.')}@example.com",
            "mobile": "+33 6 12 34 56 78",
            "street": "1 rue de la Paix",
            "zip": "75002",
            "city": "Paris",
            "country_id": cls.env.ref("base.fr").id,
            "lang": "en_US",
            "relance_profile_auto": False,
            "relance_collector_id": cls.collector.id,
        }
        if profile:
            vals["relance_profile_id"] = profile.id
        vals.update(values)
        return cls.env["res.partner"].create(vals)

    @classmethod
    def _create_customers(cls, count, prefix, invoices=1, due="2026-03-31"):
        """``count`` small-business customers with ``invoices`` posted
        invoices each, all due on ``due``, created in one batch."""
        partners = cls.env["res.partner"].create(
            [
                {
                    "name": f"{prefix} {index}",
                    "is_company": True,
                    "email": f"{prefix.lower()}{index}@example.com",
                    "lang": "en_US",
                    "relance_profile_id": cls.profile_sme.id,
                    "relance_profile_auto": False,
                }
                for index in range(count)
            ]
        )
        moves = cls.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": due,
                    "invoice_date_due": due,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Services",
                                "quantity": 1,
                                "price_unit": 100.0 + number,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
                for partner in partners
                for number in range(invoices)
            ]
        )
        moves.action_post()
        return partners

    @classmethod
    def _invoice(
        cls, partner, amount, due, invoice_date=None, currency=None, post=True
    ):
        due = fields.Date.to_date(due)
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": invoice_date or due,
                "invoice_date_due": due,
                "currency_id": (currency or cls.company.currency_id).id,
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
        if post:
            move.action_post()
        return move

    @classmethod
    def _credit_note(cls, partner, amount, day):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Refund",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [],
                        }
                    )
                ],
            }
        )
        move.action_post()
        return move

    @classmethod
    def _pay(cls, moves, day, amount=None):
        values = {"payment_date": fields.Date.to_date(day)}
        if amount is not None:
            values["amount"] = amount
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create(values)
        )
        return wizard._create_payments()

    @classmethod
    def _unreconciled_payment(cls, partner, amount, day):
        payment = cls.env["account.payment"].create(
            {
                "amount": amount,
                "date": day,
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
            }
        )
        payment.action_post()
        return payment

    def _run(self, day, partners=None):
        """Run the batch for the test company at ``day``."""
        today = fields.Date.to_date(day) if not isinstance(day, date) else day
        return self.engine._run(
            self.company, today, partner_ids=partners.ids if partners else None
        )

    def _history(self, partner=None, **domain):
        dom = [("company_id", "=", self.company.id)]
        if partner:
            dom.append(("partner_id", "in", partner.ids))
        dom += [(key, "=", value) for key, value in domain.items()]
        return self.env["relance.history"].search(dom, order="id")

    def _mails(self, partner):
        """Queued dunning emails addressed to ``partner``."""
        return self.env["mail.mail"].search(
            [("recipient_ids", "in", partner.ids), ("model", "=", "res.partner")],
            order="id",
        )

    @classmethod
    def _create_company_bank_account(cls, company=None):
        """Our bank account, which the letters ask to pay to (letters are not
        printed without one)."""
        company = company or cls.company
        return cls.env["res.partner.bank"].create(
            {
                "acc_number": "FR76 3000 6000 0112 3456 7890 189",
                "partner_id": company.partner_id.id,
                "company_id": company.id,
            }
        )
