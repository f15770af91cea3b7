"""An admin paginator for tables of millions of rows (the message log, orders)."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Counting past this many rows costs more than it tells staff: the list says "10000" and
# offers the first pages; a search or a filter narrows it down.
COUNT_LIMIT = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_LIMIT rows (COUNT over a LIMITed subquery), never the whole table."""

    @cached_property
    def count(self):
        return self.object_list.order_by()[:COUNT_LIMIT].count()
