"""The segments benchmark's data, generated inside PostgreSQL (INSERT ... SELECT FROM
generate_series): 1M customers / 10M orders in minutes where the earlier Python-built
COPY took about an hour (1M orders: 323 s at 100k customers).

Deterministic without a random generator: every drawn value is a hash of the row's
number and a per-column salt (`hashint8extended`, PostgreSQL 11+), mapped to [0, 1);
the same sizes give the same rows on every run, whatever the plan or parallelism.

The distributions are the earlier loader's:
- customers: external id b<i>, email u<i>@gmail.com (two in three) or @shop.in, city
  one of 12, attributes {"loyalty_tier": bronze|silver|gold|platinum}, signed up in the
  1000 days before NOW;
- orders: amount 200-6000 INR, 90 % completed, 5 % cancelled, 5 % refunded, ordered in
  the 1000 days before NOW, items a JSON array of 1-3 {"sku": "S1".."S500", "category":
  one of 8}; and how many orders a customer has follows the earlier customer
  distribution (0, 0, 1, 1, 2, 3, 4, 6 or 10 — two in nine never ordered), scaled so the
  total is exactly the requested number.

Coherence (a change from the earlier loader, which drew each customer's total_spend,
order_count and first/last order independently of the orders table): the customer
aggregates are computed from the generated orders, exactly as the app's
recompute_stats does (cancelled and refunded orders do not count), and nobody signs
up after their first order. A marketer comparing "spent over 10K" with "spent over 10K
in the last 1000 days" gets the same people, as on real data.

The orders are inserted in time order, as a live shop appends them (ids grow with
ordered_at), so a window over recent days reads neighbouring pages, as it would in
production; the earlier loader scattered them.

Secondary indexes and the order -> customer foreign key are dropped before the load
and rebuilt after it (one sorted build per index instead of 10M random insertions, one
anti-join instead of 10M key look-ups); `keep_indexes=True` loads with the indexes in
place, to measure the difference (the foreign key goes either way: orders are written
first, since the customers' aggregates are computed from them).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

NOW = "2026-11-01 12:00:00"
CITIES = ["Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Kolkata", "Pune",
          "Ahmedabad", "Jaipur", "Lucknow", "Kochi", "Indore"]
TIERS = ["bronze", "silver", "gold", "platinum"]
CATEGORIES = ["Shoes", "Apparel", "Beauty", "Home", "Gifting", "Electronics", "Books",
              "Toys"]
ORDER_WEIGHTS = [0, 0, 1, 1, 2, 3, 4, 6, 10]  # the earlier loader's order counts

# u(i, salt): a uniform draw in [0, 1) from row number i (53 bits of a 64-bit hash).
# pick(arr, u): the element of a text array for a draw u.
FUNCTIONS = """
CREATE FUNCTION bench_u(i bigint, salt bigint) RETURNS float8 LANGUAGE sql IMMUTABLE
PARALLEL SAFE AS
$$ SELECT ((hashint8extended(i, salt) >> 11) & 9007199254740991)::float8
          / 9007199254740992.0 $$;
CREATE FUNCTION bench_pick(arr text[], u float8) RETURNS text LANGUAGE sql IMMUTABLE
PARALLEL SAFE AS $$ SELECT arr[1 + floor(u * cardinality(arr))::int] $$;
CREATE FUNCTION bench_item(i bigint, k int, categories text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT '{"sku": "S' || (1 + floor(bench_u(i, 20 + k) * 500))::int
          || '", "category": "' || bench_pick(categories, bench_u(i, 30 + k)) || '"}' $$;
"""
DROP_FUNCTIONS = ("DROP FUNCTION bench_item(bigint, int, text[]); "
                  "DROP FUNCTION bench_pick(text[], float8); "
                  "DROP FUNCTION bench_u(bigint, bigint)")

# Orders per customer: customer c (1..n) gets a weight from ORDER_WEIGHTS; its orders
# are the global numbers floor((hi - w) * M / W) .. floor(hi * M / W) - 1, where hi is
# the running sum of weights and W the total, so the counts are proportional to the
# weights and add up to exactly M. Then each order's own draws, in time order.
ORDERS = """
INSERT INTO "order" (external_id, customer_id, amount, currency, status, ordered_at,
                     items, created_at, updated_at)
WITH w AS (
    SELECT c, (%(weights)s::int[])[1 + floor(bench_u(c, 4) * %(n_weights)s)::int] AS w
    FROM generate_series(1, %(customers)s::bigint) c
), cum AS (
    SELECT c, w, sum(w) OVER (ORDER BY c) AS hi, sum(w) OVER () AS total FROM w
), span AS (
    SELECT c, floor((hi - w) * %(orders)s / total)::bigint AS first,
           floor(hi * %(orders)s / total)::bigint AS stop
    FROM cum WHERE w > 0
), o AS (
    SELECT i, c,
           %(now)s::timestamp - make_interval(secs => floor(bench_u(i, 11) * 86400000))
               AS at,
           bench_u(i, 14) AS s, 1 + floor(bench_u(i, 15) * 4)::int AS n_items
    FROM span CROSS JOIN LATERAL generate_series(first, stop - 1) i
)
SELECT 'o' || i, c, round((200 + bench_u(i, 13) * 5800)::numeric, 2), 'INR',
       CASE WHEN s < 0.9 THEN 'completed' WHEN s < 0.95 THEN 'cancelled'
            ELSE 'refunded' END,
       at,
       ('[' || bench_item(i, 1, %(categories)s)
        || CASE WHEN n_items >= 3 THEN ', ' || bench_item(i, 2, %(categories)s) ELSE '' END
        || CASE WHEN n_items = 4 THEN ', ' || bench_item(i, 3, %(categories)s) ELSE '' END
        || ']')::json,
       at, at
FROM o ORDER BY at
"""
# n_items 1..4 maps to 1, 1, 2, 3 items (the earlier choice([1, 1, 2, 3])): item 2 when
# n_items >= 3, item 3 when n_items = 4.

# Customers with ids 1..n, their aggregates from the orders just written (counted
# orders only, as recompute_stats), signed up no later than their first order.
CUSTOMERS = """
INSERT INTO customer (id, external_id, name, email, city, attributes, is_stub,
                      created_at, updated_at, total_spend, order_count, first_order_at,
                      last_order_at)
SELECT c, 'b' || (c - 1), 'Name ' || (c - 1),
       'u' || (c - 1) || CASE WHEN (c - 1) %% 3 <> 0 THEN '@gmail.com' ELSE '@shop.in' END,
       bench_pick(%(cities)s, bench_u(c, 2)),
       json_build_object('loyalty_tier', bench_pick(%(tiers)s, bench_u(c, 3))),
       false, signup, signup,
       coalesce(a.spend, 0), coalesce(a.counted, 0), a.first_counted, a.last_counted
FROM generate_series(1, %(customers)s::bigint) c
LEFT JOIN (
    SELECT customer_id, min(ordered_at) AS first_any,
           sum(amount) FILTER (WHERE status NOT IN ('cancelled', 'refunded')) AS spend,
           count(*) FILTER (WHERE status NOT IN ('cancelled', 'refunded')) AS counted,
           min(ordered_at) FILTER (WHERE status NOT IN ('cancelled', 'refunded'))
               AS first_counted,
           max(ordered_at) FILTER (WHERE status NOT IN ('cancelled', 'refunded'))
               AS last_counted
    FROM "order" GROUP BY customer_id
) a ON a.customer_id = c
CROSS JOIN LATERAL (SELECT least(
    %(now)s::timestamp - make_interval(secs => floor(bench_u(c, 1) * 86400000)),
    a.first_any) AS signup) s
ORDER BY c
"""

SECONDARY = """
SELECT i.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname IN ('customer', 'order') AND t.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
ORDER BY t.relname, i.relname
"""
FOREIGN_KEYS = """
SELECT k.conname, k.conrelid::regclass::text, pg_get_constraintdef(k.oid)
FROM pg_constraint k WHERE k.contype = 'f' AND k.conrelid = '"order"'::regclass
"""


def load(dsn: str, customers: int, orders: int, keep_indexes: bool = False,
         report: Callable[[str, float], None] = lambda step, s: None) -> None:
    """Fill the empty, migrated database at `dsn` (a libpq URL) with `customers`
    customers and `orders` orders (module doc); `report(step, seconds)` after each step.
    Leaves no helper function behind; ends with VACUUM ANALYZE of both tables."""
    params = {"customers": customers, "orders": orders, "now": NOW,
              "weights": ORDER_WEIGHTS, "n_weights": len(ORDER_WEIGHTS),
              "cities": CITIES, "tiers": TIERS, "categories": CATEGORIES}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        conn.execute(FUNCTIONS)
        indexes = [] if keep_indexes else conn.execute(SECONDARY).fetchall()
        # The foreign key goes either way: orders are written before their customers,
        # whose aggregates are computed from them.
        fks = conn.execute(FOREIGN_KEYS).fetchall()
        for name, table, _ in fks:
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')

        def step(label: str, sql: str) -> None:
            t0 = time.perf_counter()
            conn.execute(sql, params)
            report(label, time.perf_counter() - t0)

        if orders:
            step("orders", ORDERS)
        step("customers + aggregates", CUSTOMERS)
        conn.execute("SELECT setval(pg_get_serial_sequence('customer', 'id'), %s)",
                     (max(customers, 1),))
        t0 = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        for name, table, definition in fks:
            conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        report(f"{len(indexes)} indexes + {len(fks)} foreign key rebuilt",
               time.perf_counter() - t0)
        conn.execute(DROP_FUNCTIONS)
        t0 = time.perf_counter()
        conn.execute('VACUUM (ANALYZE) customer, "order"')
        report("vacuum analyze", time.perf_counter() - t0)
