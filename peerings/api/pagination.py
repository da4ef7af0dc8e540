"""Page-number pagination; the querysets' orderings end on ``id``, so pages do not shift."""

from rest_framework.pagination import PageNumberPagination

__all__ = ["PortalPagination"]


class PortalPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
