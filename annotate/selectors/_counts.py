"""Correlated COUNT subqueries, so lists carry their aggregates in one query without GROUP BY joins."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


def count_of(qs: QuerySet[Any], group_by: str) -> Coalesce:
    """COUNT(*) of ``qs`` (already filtered on an OuterRef through ``group_by``), 0 when none."""
    counted = qs.order_by().values(group_by).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
