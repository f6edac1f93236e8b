"""Customer reads for the UI: search, sort and pages; detail with paginated orders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, or_, select

from mini_crm.models import Customer, Order

# Sortable columns and the direction each one starts in when picked.
SORTS: dict[str, tuple[Any, bool]] = {
    "recent": (Customer.created_at, True),
    "spend": (Customer.total_spend, True),
    "orders": (Customer.order_count, True),
    "last_order": (Customer.last_order_at, True),
    "name": (Customer.name, False),
}
# Databases disagree on where NULLs sort; these columns put them last either way.
_NULLABLE_SORTS = {"last_order", "name"}
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _like_escaped(text: str) -> str:
    """User text as a LIKE pattern that matches it literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


MAX_SEARCH_TERMS = 8  # a pasted paragraph must not become a hundred-way AND


def _search_filter(query: str) -> sa.ColumnElement[bool] | None:
    """Every word of `query` is found in some column (name, email, phone, city or id):
    "priya mumb" finds Priya Shah of Mumbai, as one box searching people should (one
    pattern for the whole text found no one: no column holds both words)."""
    terms = query.split()[:MAX_SEARCH_TERMS]
    if not terms:
        return None
    columns = (Customer.name, Customer.email, Customer.phone, Customer.city, Customer.external_id)
    return sa.and_(*(or_(*(func.lower(c).like(_like_escaped(term), escape="\\")
                           for c in columns)) for term in terms))


def default_descending(sort: str) -> bool:
    return SORTS[sort][1] if sort in SORTS else True


def _order_by(sort: str, descending: bool) -> list[Any]:
    column = SORTS[sort][0]
    keys: list[Any] = [column.is_(None)] if sort in _NULLABLE_SORTS else []
    if descending:
        return [*keys, column.desc(), Customer.id.desc()]
    return [*keys, column.asc(), Customer.id.asc()]


def count_customers(session: Session) -> int:
    """How many customers there are in all (the whole a segment's size is a share of)."""
    return int(session.exec(select(func.count()).select_from(Customer)).one())


def list_customers(session: Session, *, query: str = "", sort: str = "recent",
                   descending: bool | None = None, page: int = 1,
                   page_size: int = 25) -> Page:
    """One page of customers matching `query`; `descending` defaults to the sort's usual way."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}")
    if descending is None:
        descending = default_descending(sort)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    where = _search_filter(query)
    count = select(func.count()).select_from(Customer)
    rows = select(Customer)
    if where is not None:
        count, rows = count.where(where), rows.where(where)
    total = session.exec(count).one()
    page = min(page, max(1, -(-total // page_size)))  # past the end: the last page
    rows = rows.order_by(*_order_by(sort, descending)).offset((page - 1) * page_size)
    return Page(rows=list(session.exec(rows.limit(page_size)).all()), total=total, page=page,
                page_size=page_size)


def get_customer(session: Session, external_id: str) -> Customer | None:
    return session.exec(select(Customer).where(Customer.external_id == external_id)).first()


def customer_orders(session: Session, customer_id: int, *, page: int = 1,
                    page_size: int = 10) -> Page:
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    total = session.exec(
        select(func.count()).select_from(Order).where(Order.customer_id == customer_id)).one()
    page = min(page, max(1, -(-total // page_size)))
    rows = session.exec(
        select(Order).where(Order.customer_id == customer_id)
        .order_by(Order.ordered_at.desc(), Order.id.desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return Page(rows=list(rows), total=total, page=page, page_size=page_size)
