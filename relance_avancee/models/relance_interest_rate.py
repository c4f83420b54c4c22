from datetime import date

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


def half_year_start(day):
    """The first day of the half-year ``day`` falls in (1 January or 1 July)."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


class RelanceInterestRate(models.Model):
    """The ECB main refinancing rate in force on 1 January / 1 July.

    French law (Code de commerce L441-10) applies the rate in force on
    1 January for the first half-year and the one of 1 July for the second.
    The rate is a public fact, the same for every company: the table is shared
    (no company), each company choosing its margin or a contractual rate.
    """

    _name = "relance.interest.rate"
    _description = "Late-payment reference rate (half-year)"
    _order = "date_start desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    date_start = fields.Date(
        string="Half-year from",
        required=True,
        help="1 January (first half-year) or 1 July (second half-year).",
    )
    ecb_rate = fields.Float(
        string="ECB rate (%)",
        digits=(16, 2),
        required=True,
        help="The ECB main refinancing rate in force on that day, in percent.",
    )

    _sql_constraints = [
        (
            "date_start_unique",
            "UNIQUE(date_start)",
            "A half-year has one reference rate only.",
        ),
    ]

    @api.depends("date_start")
    def _compute_name(self):
        for rate in self:
            if not rate.date_start:
                rate.name = False
                continue
            half = "H1" if rate.date_start.month <= 6 else "H2"
            rate.name = f"{rate.date_start.year} {half}"

    @api.constrains("date_start")
    def _check_date_start(self):
        for rate in self:
            if rate.date_start.day != 1 or rate.date_start.month not in (1, 7):
                raise ValidationError(
                    _(
                        "A reference rate starts on 1 January or 1 July, not on "
                        "%(date)s.",
                        date=rate.date_start,
                    )
                )

    @api.constrains("ecb_rate")
    def _check_ecb_rate(self):
        for rate in self:
            if not -100 < rate.ecb_rate < 100:
                raise ValidationError(
                    _(
                        "The reference rate of %(half)s must be a percentage, "
                        "not %(rate)s.",
                        half=rate.name,
                        rate=rate.ecb_rate,
                    )
                )

    @api.model
    def _get_rate_table(self):
        """The whole table, read once, oldest first: ``[(date_start, rate)]``."""
        rows = self.search_fetch([], ["date_start", "ecb_rate"], order="date_start")
        return [(row.date_start, row.ecb_rate) for row in rows]

    @api.model
    def _get_rate_from_table(self, table, day):
        """The reference rate of the half-year ``day`` falls in.

        :param table: ``_get_rate_table()``
        :return: ``(ecb_rate, provisional)``; ``provisional`` when that
            half-year has no rate yet and the latest known rate before it (or,
            before the table starts, the oldest one) stands in for it.
        :raise UserError: the table is empty (never a silent 0 %)
        """
        if not table:
            raise UserError(
                _(
                    "No late-payment reference rate is entered: add the ECB rates "
                    "in Accounting > Configuration > Dunning > Late-payment rates."
                )
            )
        start = half_year_start(day)
        known = table[0]
        for row in table:
            if row[0] > start:
                break
            known = row
        return known[1], known[0] != start

    @api.model
    def _get_rate(self, day):
        """The ECB rate in force on ``day``: ``(ecb_rate, provisional)``."""
        return self._get_rate_from_table(self._get_rate_table(), day)

    @api.model
    def _is_missing(self, day):
        """Whether the half-year of ``day`` has no rate entered yet."""
        return not self.search_count(
            [("date_start", "=", half_year_start(day))], limit=1
        )
