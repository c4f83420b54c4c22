from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields, models
from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tests.common import warmup

from .common import RelanceCommon


@tagged("post_install", "-at_install")
class TestRelancePerformance(RelanceCommon):
    """The scan reads balances with grouped queries: its cost does not grow
    with the number of customers or invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.small = cls._create_customers(10, "Small", invoices=2)
        cls.large = cls._create_customers(100, "Large", invoices=2)
        # A second profile in use in both sets (its levels are read once per
        # profile, whatever the number of customers).
        (cls.small[:1] | cls.large[:5]).relance_profile_id = cls.profile_risk

    def _count_scan_queries(self, partners, day="2026-04-03"):
        today = fields.Date.to_date(day)
        # Warm Odoo's own caches (access rules, groups, languages) first: what
        # is measured is the scan, with an empty record cache.
        self.engine._scan(self.company, today, partners.ids)
        self.env.flush_all()
        self.env.invalidate_all()
        # Once more on an empty record cache, so that the access rules of
        # every model the scan reads are cached too, whatever ran before.
        self.engine._scan(self.company, today, partners.ids)
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        proposals = self.engine._scan(self.company, today, partners.ids)
        self.engine._scan_thanks(self.company, today, partners.ids)
        return self.cr.sql_log_count - before, proposals

    def test_scan_query_count_is_the_same_for_10_and_100_customers(self):
        with freeze_time("2026-04-03"):
            small_count, small_proposals = self._count_scan_queries(self.small)
            large_count, large_proposals = self._count_scan_queries(self.large)
        self.assertEqual(small_count, large_count)
        # Email for everybody, plus SMS for the at-risk customers.
        self.assertEqual(len([p for p in small_proposals if not p.skip_reason]), 11)
        self.assertEqual(len([p for p in large_proposals if not p.skip_reason]), 105)

    def test_scan_query_count_does_not_grow_past_the_prefetch_size(self):
        # Odoo loads the records of a large set a thousand at a time: with it
        # set to 5 here, 100 customers are "large", and cost what 10 do.
        with (
            freeze_time("2026-04-03"),
            patch.object(models, "PREFETCH_MAX", 5),
            patch.object(Cursor, "IN_MAX", 5),
        ):
            small_count, _small = self._count_scan_queries(self.small)
            large_count, _large = self._count_scan_queries(self.large)
        self.assertEqual(small_count, large_count)

    @warmup
    def test_scan_query_count_is_pinned(self):
        today = fields.Date.to_date("2026-04-03")
        with freeze_time(today):
            self.env.invalidate_all()
            with self.assertQueryCount(10):
                self.engine._scan(self.company, today, self.large.ids)
                self.engine._scan_thanks(self.company, today, self.large.ids)

    def test_scan_after_history_costs_the_same(self):
        with freeze_time("2026-04-03"):
            self._run("2026-04-03", self.small)
            before, _proposals = self._count_scan_queries(self.small)
        with freeze_time("2026-04-12"):
            after, proposals = self._count_scan_queries(self.small, "2026-04-12")
        # The second reminder of the 9 small-business customers, the phone call
        # of the at-risk one.
        self.assertEqual(
            sorted((p.channel, p.level.delay) for p in proposals if not p.skip_reason),
            [("email", 12)] * 9 + [("phone", 5)],
        )
        self.assertEqual(before, after)
