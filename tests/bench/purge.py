"""Retention purge benchmark: privacy.retention.purge.purge() on a large order table, against its SQL floor.

    DATABASE_URL=postgres://USER@127.0.0.1:PORT/postgres \\
        .venv/bin/python tests/bench/purge.py [--orders 1000000] [--batch-size 1000] [--no-tracemalloc]

PostgreSQL only. A separate database `bench_purge_<pid>` is created on the server named by
DATABASE_URL (Django's test-database creation, which runs `migrate`) and dropped at the end;
the database named in the URL is never touched. The environment is a throw-away shop in a
temporary folder (SHOP_ENV=local, DEBUG=0, fresh keys, default retention periods), as in
tests/bench/encryption.py.

1. Build: N orders (ids 1..N in chronological order), one OrderLine each, 1,000 users (half the
   orders belong to one). The COPY column lists are the models' concrete columns (a column the
   bench does not fill is NULL or its field's default; a NOT NULL column without one, or a column
   the bench fills that is gone, stops the bench with a message naming it). Personal fields are
   real ciphertexts: a pool of 1,000 distinct encryptions per field (email, shipping_name, line1,
   city, postal_code, country, phone; line2, region and any other encrypted field hold an
   encrypted "") made by the model fields themselves (shop-wide key, not per-person keys), and
   rows are loaded with COPY (psycopg 3 `cursor.copy`). The oldest 90% were delivered 121 to
   ~1,000 days ago (past the 120-day "orders.delivered" rule), the newest 10% 1 to 101 days ago:
   those delivered more than the return window (90 days) ago are due for the orders' decay steps
   (orders/personal_data.py: phone removed, street removed, postcode shortened to its district).
   One expired order in 1,000 is under a legal hold (a privacy.LegalHold on the order: postponed,
   neither anonymised nor faded). VACUUM ANALYZE, then a snapshot copy of orders_order and
   orders_orderline (CREATE TABLE ... AS).
2. purge(): the real code path (privacy.retention.purge.purge, all rules and decay steps,
   --batch-size, default 1000 as the app), at a `now` fixed by the bench so which orders are due
   is known exactly. Measured: seconds, orders anonymised per second, batches, time per rule
   (orders.delivered, each decay step, the rest), resident memory (ru_maxrss before/after, and
   the current RSS sampled at every batch), and where the time goes (every SQL statement timed
   through connection.execute_wrapper: orders.delivered's candidate-id SELECTs and anonymising
   UPDATEs, lease, the rest; per-batch wall time of orders.delivered at the start and at the end).
   EXPLAIN (ANALYZE, BUFFERS) of the candidate query is taken after the first, the middle and the
   last orders.delivered batch (its time is left out). The timed run is NOT traced: tracemalloc
   makes this Python code ~3x slower (measured: 20,000 orders, 3.6 s traced vs 1.0 s untraced).
   The Python heap peak (tracemalloc) comes from a second, complete purge() at the end, over a
   backlog of 20,000 due orders restored on the full-size table (memory per run is meant to be
   bounded by the batch, not the backlog).
   Checked afterwards, against the snapshot: exactly the due (expired, unheld) orders are
   anonymised (anonymised_at set, every personal column decrypts to its replacement "", user and
   blind index gone, every other column as before); held orders exactly as before; recent orders
   past the decay cutoff have each decaying field as its step declares (removed, or the old value
   shortened) and every other column as before; newer orders exactly as before; the PurgeRun
   counts each rule's changes and the holds' postponements as expected, and no other rule
   touched anything; count and sum(total) of orders and lines unchanged.
3. Floor: tables restored from the snapshot (TRUNCATE + INSERT ... SELECT, VACUUM ANALYZE), then
   ONE plain UPDATE blanking the same columns (the registry's, with ciphertexts of "" computed
   once) on the same rows, and ONE plain UPDATE fading what the decay steps fade on their rows
   (the shortened postcodes come from a table of each distinct ciphertext's shortened one, built
   beforehand and not timed); same checks. "purge / floor" is the headline figure, with
   orders.delivered against its UPDATE beside it (the figure earlier runs reported).
4. Checkout, in a thread on its own connection, every 50 ms: one transaction that decrements a
   product's stock and inserts an order and its line (raw SQL, precomputed ciphertexts; the
   INSERT's columns also follow the model). Latency p50/p95/max while idle, during purge() and
   during the floor UPDATEs.

Prints one table of figures and the query plans. No assertions on speed; exits 1 if a check
fails. Bounded: every loop has a fixed maximum. Talks to no network but the PostgreSQL server
of DATABASE_URL (meant to be on 127.0.0.1). Nothing here is part of the test suite.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
MIN_ORDERS, MAX_ORDERS = 1_000, 2_000_000
MAX_BATCH = 100_000
POOL = 1_000                 # distinct ciphertexts per personal field
USERS = 1_000
EXPIRED_SHARE = 0.9          # oldest 90% of orders are past retention
RETENTION = timedelta(days=120)  # orders.delivered default (PRIVACY_RETENTION_DAYS is cleared)
HOLD_EVERY = 1_000           # one expired order in 1,000 has a legal hold
COPY_CHUNK = 20_000          # rows per copy.write
CHECKOUT_INTERVAL = 0.05     # seconds between checkout starts
CHECKOUT_MAX = 200_000       # checkouts per phase at most (~2.8 h at 50 ms)
CHECKOUT_IDLE_SECONDS = 5.0
CHECKOUT_STOCK = 10_000_000
CHECKOUT_TIMEOUT_MS = 60_000  # statement_timeout of one checkout statement
TRACE_BACKLOG = 20_000       # lowest order ids restored for the traced purge() run
PRICE = Decimal("19.99")
BENCH_REF, CHECKOUT_REF = "B", "C"  # order reference prefixes (12 characters in all)

FIRST = ["Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Dennis", "Margaret",
         "Tim", "Radia", "Ken", "Hedy", "John", "Sophie"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen", "Ritchie",
        "Hamilton", "Berners-Lee", "Perlman", "Thompson", "Lamarr", "McCarthy", "Wilson"]
STREETS = ["Analytical Row", "Compiler Lane", "Enigma Street", "Orbit Avenue", "Semaphore Road",
           "Lambda Close", "Kernel Way", "Packet Place"]
PLACES = [("London", "GB", "N1 9GU", "+44 20 7946 "), ("Paris", "FR", "75011", "+33 1 70 36 "),
          ("Berlin", "DE", "10115", "+49 30 901820 "), ("Toronto", "CA", "M5V 2T6", "+1 416 555 "),
          ("Lisbon", "PT", "1100-148", "+351 21 340 "), ("Osaka", "JP", "530-0001", "+81 6 6345 ")]
EXPIRED_STATUSES = ("completed", "completed", "delivered", "refunded")
RECENT_STATUSES = ("delivered", "completed")
HOLD_AT = 7                  # ... the one whose index i (id - 1) is 7 modulo HOLD_EVERY
NULL = r"\N"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to load (default 1000000)")
    parser.add_argument("--batch-size", type=int, default=1000, help="purge batch size (default 1000, as the app)")
    parser.add_argument("--no-tracemalloc", action="store_true",
                        help="skip the second, traced purge() (the Python heap peak)")
    args = parser.parse_args()
    if not MIN_ORDERS <= args.orders <= MAX_ORDERS:
        parser.error(f"--orders must be between {MIN_ORDERS} and {MAX_ORDERS}")
    if not 1 <= args.batch_size <= MAX_BATCH:
        parser.error(f"--batch-size must be between 1 and {MAX_BATCH}")
    return args


def configure_environment(var_dir: Path) -> str:
    """Environment for a self-contained shop on the caller's PostgreSQL server."""
    external_db = os.environ.get("DATABASE_URL") or ""
    if not external_db.startswith(("postgres://", "postgresql://", "pgsql://")):
        sys.exit("tests/bench/purge.py needs DATABASE_URL=postgres://... (a PostgreSQL server; "
                 "a database bench_purge_<pid> is created there and dropped at the end)")
    for name in ("SECRET_KEY", "CRYPTOGRAPHY_KEY", "CRYPTOGRAPHY_OLD_KEYS", "BLIND_INDEX_KEY", "CACHE_URL",
                 "REDIS_URL", "ALLOWED_HOSTS", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                 "STRIPE_API_BASE", "ADMIN_URL", "PRIVACY_RETENTION_DAYS", "CONN_MAX_AGE"):
        os.environ.pop(name, None)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "SHOP_ENV": "local", "DEBUG": "0",
        "SHOP_VAR_DIR": str(var_dir), "SHOP_MEDIA_ROOT": str(var_dir / "media"),
        "SHOP_PRIVATE_ROOT": str(var_dir / "private"), "CACHE_URL": "locmemcache://bench",
        "CELERY_BROKER_URL": "filesystem://", "CELERY_TASK_ALWAYS_EAGER": "0", "PAYMENT_GATEWAY": "offline",
        "STRIPE_SECRET_KEY": "", "EMAIL_URL": "consolemail://", "LOG_LEVEL": "WARNING",
        "DATABASE_URL": external_db,
    })
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    return external_db


# --- helpers --------------------------------------------------------------------------------
def sql(statement: str, params=None, *, fetch: str | None = None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        if fetch == "one":
            return cursor.fetchone()
        if fetch == "all":
            return cursor.fetchall()
        return cursor.rowcount


def bytea_text(blob: bytes) -> str:
    """A bytea value in COPY text format (hex, its backslash escaped for COPY)."""
    return "\\\\x" + bytes(blob).hex()


def ts(value: datetime | None) -> str:
    return r"\N" if value is None else value.isoformat()


def rss_now() -> float:
    """Current resident set size of this process, MiB (Linux)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def latency_note(lat: list[float]) -> str:
    if not lat:
        return "no checkout completed"
    slow = sum(1 for x in lat if x > 1.0)
    return (f"p50 {pct(lat, .5) * 1000:.1f} ms, p95 {pct(lat, .95) * 1000:.1f} ms, "
            f"p99 {pct(lat, .99) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms; {slow} over 1 s")


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, figure: str, rows: int | None = None, seconds: float | None = None, note: str = "",
            *, rate: bool = True) -> None:
        self.rows.append((figure, "" if rows is None else f"{rows:,}",
                          "" if seconds is None else f"{seconds:.3f}",
                          f"{rows / seconds:,.0f}" if rate and rows and seconds else "", note))

    def print(self) -> None:
        head = ("figure", "rows", "seconds", "rows/s", "note")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(len(head))]
        align = ["<", ">", ">", ">", "<"]
        line = lambda r: "  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, align, widths, strict=True)).rstrip()  # noqa: E731
        print(line(head))
        print("  ".join("-" * w for w in widths))
        for r in self.rows:
            print(line(r))


def held_sql(n_expired: int, alias: str = "o") -> str:
    """The orders the bench puts on legal hold (a privacy.LegalHold each), as SQL on `alias`."""
    return f"({alias}.id <= {int(n_expired)} AND mod({alias}.id - 1, {HOLD_EVERY}) = {HOLD_AT})"


def is_held(i: int, n_expired: int) -> bool:
    return i < n_expired and i % HOLD_EVERY == HOLD_AT


# --- schema ---------------------------------------------------------------------------------
def column_fill(model, filled: set[str]) -> tuple[list[str], dict[str, object]]:
    """The model's concrete columns in table order, and a value for each column the bench does not
    fill: NULL where the column allows it, else the field's default. Stops with a clear message when
    the bench fills a column the table no longer has, or the table gained a NOT NULL column without
    a default: the column lists follow the model, so a migration cannot silently break the bench."""
    from django.db import connection

    fields = model._meta.concrete_fields
    columns = [f.column for f in fields]
    gone = sorted(filled - set(columns))
    fill: dict[str, object] = {}
    unknown = []
    for f in fields:
        if f.column in filled:
            continue
        if f.null:
            fill[f.column] = None
        elif f.has_default() and not isinstance(value := f.get_db_prep_save(f.get_default(), connection),
                                                (bytes, memoryview)):
            fill[f.column] = value
        else:
            unknown.append(f.column)
    if gone or unknown:
        sys.exit(f"tests/bench/purge.py is out of date with {model._meta.db_table}: it fills "
                 f"{gone or 'no'} column(s) the table no longer has; the table has NOT NULL column(s) "
                 f"{unknown or 'none'} the bench does not fill. Update build() and Checkout.")
    return columns, fill


def copy_text(value) -> str:
    """A Python value as a COPY text field (no tabs, newlines or backslashes in the bench's values)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def encrypted_names(model) -> list[str]:
    from privacy.protection.crypto import encrypted_fields

    return [f.name for f in encrypted_fields(model)]


# --- data -----------------------------------------------------------------------------------
def value_pools() -> tuple[dict[str, list[str]], list[str]]:
    """POOL ciphertexts per personal field (COPY text), made by the model fields (KEY_RING), and
    the blind index of each pooled email. line2, region and any encrypted field the bench has no
    values for: one encrypted "" each."""
    from django.db import connection

    from orders.models import Order
    from privacy.protection.crypto import email_index

    plain: dict[str, list[str]] = {name: [] for name in ("email", "shipping_name", "shipping_line1", "shipping_city",
                                                         "shipping_postal_code", "shipping_country", "phone")}
    for j in range(POOL):
        first, last = FIRST[j % len(FIRST)], LAST[(j // len(FIRST)) % len(LAST)]
        city, country, postcode, phone = PLACES[j % len(PLACES)]
        plain["email"].append(f"{first.lower()}.{last.lower()}.{j}@example.com")
        plain["shipping_name"].append(f"{first} {last}")
        plain["shipping_line1"].append(f"{j % 250 + 1} {STREETS[j % len(STREETS)]}")
        plain["shipping_city"].append(city)
        plain["shipping_postal_code"].append(postcode)
        plain["shipping_country"].append(country)
        plain["phone"].append(f"{phone}{j:04d}")
    for name in encrypted_names(Order):
        plain.setdefault(name, [""])
    pools = {}
    for name, values in plain.items():
        field = Order._meta.get_field(name)
        blobs = [bytes(field._dump(v)) for v in values]  # what get_db_prep_value stores
        assert field.from_db_value(blobs[-1], None, connection) == values[-1], f"{name}: no round trip"
        pools[name] = [bytea_text(b) for b in blobs]
    return pools, [email_index(e) for e in plain["email"]]


def build(n: int, now: datetime) -> dict:
    """Users, a product, N orders + N lines by COPY (columns from the models), the legal holds.
    Returns ids and expectations."""
    from django.db import connection

    from orders.models import Order, OrderLine
    from privacy.models import LegalHold
    from shop.models import Category, Product, User

    t0 = time.perf_counter()
    users = User.objects.bulk_create(
        [User(email=f"bench.user{j}@example.com", password="!", last_login=now - timedelta(days=1),
              date_joined=now - timedelta(days=30)) for j in range(USERS)], batch_size=USERS)
    user_ids = [u.pk for u in users]
    category = Category.objects.create(name="Bench lamps", slug="bench-lamps")
    product = Product.objects.create(category=category, name="Walnut Desk Lamp", slug="walnut-desk-lamp",
                                     price=PRICE, stock=CHECKOUT_STOCK)
    pools, indexes = value_pools()
    pool_seconds = time.perf_counter() - t0

    n_expired = int(n * EXPIRED_SHARE)
    n_recent = n - n_expired
    old_span, recent_span = timedelta(days=880), timedelta(days=100)
    oldest_expired = now - RETENTION - timedelta(days=1)       # 121 days ago and older
    newest_recent = now - timedelta(days=1)
    p = pools
    col = {name: Order._meta.get_field(name).column for name in pools}
    plain_cols = ("id", "reference", "email_index", "status", "currency", "subtotal", "shipping_cost", "duties",
                  "total", "carrier", "tracking_number", "anonymised_at", "created_at", "paid_at", "shipped_at",
                  "delivered_at", "completed_at", "cancelled_at", "user_id")
    order_columns, order_fill = column_fill(Order, set(col.values()) | set(plain_cols))
    base_row = {c: copy_text(v) for c, v in order_fill.items()}
    line_columns, line_fill = column_fill(OrderLine, {"id", "order_id", "product_name", "unit_price", "quantity",
                                                      "line_total", "product_id"})
    base_line = {c: copy_text(v) for c, v in line_fill.items()}
    pool_step = {"shipping_name": 7, "shipping_line1": 3, "shipping_city": 11, "shipping_postal_code": 13,
                 "shipping_country": 17, "phone": 5}
    held_ids: list[int] = []

    def order_rows():
        chunk = []
        for i in range(n):
            if i < n_expired:   # chronological: id 1 oldest
                delivered = oldest_expired - old_span * ((n_expired - 1 - i) / n_expired)
                status = EXPIRED_STATUSES[i % len(EXPIRED_STATUSES)]
                if is_held(i, n_expired):
                    held_ids.append(i + 1)
            else:
                delivered = newest_recent - recent_span * ((n - 1 - i) / n_recent)
                status = RECENT_STATUSES[i % len(RECENT_STATUSES)]
            created = delivered - timedelta(days=3)
            cents = 500 + (i * 7919) % 20_000
            total = f"{cents // 100}.{cents % 100:02d}"
            e = i % POOL
            row = dict(base_row)
            for name, values in p.items():
                row[col[name]] = values[e] if name == "email" else values[(i // pool_step.get(name, 1)) % len(values)]
            row.update({
                "id": str(i + 1), "reference": f"{BENCH_REF}{i:011d}", "email_index": indexes[e],
                "status": status, "currency": "USD", "subtotal": total, "shipping_cost": "0", "duties": "0",
                "total": total, "carrier": "Royal Mail", "tracking_number": f"RM{i:09d}GB", "anonymised_at": NULL,
                "created_at": ts(created), "paid_at": ts(created + timedelta(minutes=2)),
                "shipped_at": ts(created + timedelta(days=1)), "delivered_at": ts(delivered),
                "completed_at": ts(delivered if status == "completed" else None), "cancelled_at": NULL,
                "user_id": str(user_ids[(i // 2) % USERS]) if i % 2 == 0 else NULL,
            })
            chunk.append("\t".join([row[c] for c in order_columns]) + "\n")
            if len(chunk) >= COPY_CHUNK:
                yield "".join(chunk)
                chunk = []
        if chunk:
            yield "".join(chunk)

    def line_rows():
        chunk = []
        for i in range(n):
            cents = 500 + (i * 7919) % 20_000
            total = f"{cents // 100}.{cents % 100:02d}"
            row = dict(base_line)
            row.update({"id": str(i + 1), "order_id": str(i + 1), "product_name": "Walnut Desk Lamp",
                        "unit_price": total, "quantity": "1", "line_total": total, "product_id": str(product.pk)})
            chunk.append("\t".join([row[c] for c in line_columns]) + "\n")
            if len(chunk) >= COPY_CHUNK:
                yield "".join(chunk)
                chunk = []
        if chunk:
            yield "".join(chunk)

    python_seconds = 0.0

    def timed(blocks):  # time spent formatting rows in Python (the rest of a COPY is the server's)
        nonlocal python_seconds
        while True:
            t = time.perf_counter()
            block = next(blocks, None)
            python_seconds += time.perf_counter() - t
            if block is None:
                return
            yield block

    t1 = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY orders_order ({', '.join(order_columns)}) FROM STDIN") as copy:
            for block in timed(order_rows()):
                copy.write(block)
        t2 = time.perf_counter()
        with cursor.copy(f"COPY orders_orderline ({', '.join(line_columns)}) FROM STDIN") as copy:
            for block in timed(line_rows()):
                copy.write(block)
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s)", [n])
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_orderline', 'id'), %s)", [n])
    t3 = time.perf_counter()
    # One order in HOLD_EVERY past retention is under a payment dispute: a legal hold on that order.
    LegalHold.objects.bulk_create(
        [LegalHold(target=LegalHold.Target.ORDER, order_id=pk, reference=f"{BENCH_REF}{pk - 1:011d}",
                   kind=LegalHold.Kind.PAYMENT_DISPUTE, reason="Card issuer dispute (bench)",
                   legal_basis="Card scheme dispute rules", expires_at=now + timedelta(days=365),
                   placed_at=now - timedelta(days=200), source=f"dp_bench_{pk}") for pk in held_ids],
        batch_size=1000)
    for table in ("orders_order", "orders_orderline", "shop_user", "shop_product", "privacy_legalhold"):
        sql(f"VACUUM ANALYZE {table}")
    t4 = time.perf_counter()
    return {"n_expired": n_expired, "held": len(held_ids), "expected": n_expired - len(held_ids),
            "product_id": product.pk, "pool_seconds": pool_seconds, "python_rows": python_seconds,
            "copy_orders": t2 - t1, "copy_lines": t3 - t2, "vacuum": t4 - t3}


def totals() -> dict:
    o = sql(f"SELECT count(*), sum(total), count(user_id) FROM orders_order WHERE reference LIKE '{BENCH_REF}%%'",
            fetch="one")
    line = sql(f"SELECT count(*), sum(l.line_total) FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id "
               f"WHERE o.reference LIKE '{BENCH_REF}%%'", fetch="one")
    return {"orders": o[0], "total": o[1], "with_user": o[2], "lines": line[0], "line_total": line[1]}


def order_entry():
    from orders.models import Order
    from privacy.registry import declarations as registry

    return registry.entry_for(Order)


def decay_steps() -> list:
    """Order's decay steps (orders/personal_data.py). The bench's expectations assume what they
    declare today: counted from delivered_at, one period, on delivered and completed orders."""
    steps = list(order_entry().decay)
    if not steps or {s.after for s in steps} != {"delivered_at"} or len({s.period for s in steps}) != 1 \
            or any(not hasattr(s.action, "label") or type(s.action).__name__ == "Drop" for s in steps):
        sys.exit("tests/bench/purge.py expects Order's decay steps to fade fields counted from delivered_at, "
                 f"with one period; found {[(s.setting, s.after, s.period, s.action) for s in steps]}")
    return steps


def decrypt(field, blob, cache: dict | None = None):
    from django.db import connection

    raw = bytes(blob)
    if cache is not None and raw in cache:
        return cache[raw]
    value = field.from_db_value(raw, None, connection)
    if cache is not None:
        cache[raw] = value
    return value


def decay_expectations(n_expired: int, cutoff: datetime) -> dict[str, int]:
    """Per decay step: how many bench orders it must change (from the snapshot: recent orders
    delivered before `cutoff` whose value the step alters; held orders are postponed)."""
    from orders.models import Order

    expected = {}
    for step in decay_steps():
        cols = [Order._meta.get_field(f).column for f in step.fields]
        groups = sql(f"SELECT {', '.join(cols)}, count(*) FROM bench_snapshot_order o WHERE o.id > %s "
                     f"AND o.delivered_at <= %s GROUP BY {', '.join(cols)}", [n_expired, cutoff], fetch="all")
        cache: dict = {}
        expected[step.setting] = sum(
            g[-1] for g in groups
            if any(step.apply(v := decrypt(Order._meta.get_field(f), blob, cache)) != v
                   for f, blob in zip(step.fields, g[:-1], strict=True)))
    return expected


def check(label: str, data: dict, before: dict) -> list[str]:
    """What the purge must and must not do to the bench's orders under today's rules:
    - due (past retention, no hold): anonymised; personal columns decrypt to their replacement,
      user and blind index gone; every other column as before;
    - held (a legal hold on the order): exactly as before, no decay either;
    - recent, delivered before the decay cutoff: the decay steps' fields faded as declared (removed,
      shortened), every other column as before;
    - recent, after the cutoff: exactly as before;
    - count and sum(total) of orders and lines unchanged."""
    from orders.models import Order

    problems = []
    entry = order_entry()
    steps = decay_steps()
    ne, cutoff = data["n_expired"], data["decay_cutoff"]
    held, due = held_sql(ne), f"(o.id <= {ne} AND NOT {held_sql(ne)})"
    faded = f"(o.id > {ne} AND o.delivered_at <= %s)"
    fresh = f"(o.id > {ne} AND o.delivered_at > %s)"
    columns = [f.column for f in Order._meta.concrete_fields]
    personal = {Order._meta.get_field(name).column for name in entry.fields} | {"user_id", "anonymised_at"}
    decaying = {Order._meta.get_field(name).column for step in steps for name in step.fields}

    def differs(skip: set[str]) -> str:
        return "(" + " OR ".join(f"o.{c} IS DISTINCT FROM s.{c}" for c in columns if c not in skip) + ")"

    row = sql(f"""
        SELECT count(*) FILTER (WHERE o.anonymised_at IS NOT NULL),
               count(*) FILTER (WHERE o.anonymised_at IS NOT NULL AND NOT {due}),
               count(*) FILTER (WHERE o.anonymised_at IS NULL AND {due}),
               count(*) FILTER (WHERE o.anonymised_at IS NOT NULL AND (o.user_id IS NOT NULL OR o.email_index <> '')),
               count(*) FILTER (WHERE {due} AND {differs(personal)}),
               count(*) FILTER (WHERE {held}), count(*) FILTER (WHERE {held} AND {differs(set())}),
               count(*) FILTER (WHERE {faded}), count(*) FILTER (WHERE {faded} AND {differs(decaying)}),
               count(*) FILTER (WHERE {fresh}), count(*) FILTER (WHERE {fresh} AND {differs(set())})
        FROM orders_order o JOIN bench_snapshot_order s ON s.id = o.id
        WHERE o.reference LIKE '{BENCH_REF}%%'""", [cutoff, cutoff, cutoff, cutoff], fetch="one")
    (anonymised, wrong, missed, linked, anon_changed, n_held, held_changed, n_faded, faded_changed,
     n_fresh, fresh_changed) = row
    if anonymised != data["expected"]:
        problems.append(f"{label}: {anonymised:,} orders anonymised, expected {data['expected']:,}")
    if wrong:
        problems.append(f"{label}: {wrong:,} orders anonymised that were not due (recent or held)")
    if missed:
        problems.append(f"{label}: {missed:,} due orders not anonymised")
    if linked:
        problems.append(f"{label}: {linked:,} anonymised orders still linked to a user or blind index")
    if anon_changed:
        problems.append(f"{label}: {anon_changed:,} anonymised orders changed beyond their personal columns")
    if n_held != data["held"] or held_changed:
        problems.append(f"{label}: {held_changed:,} of {n_held:,} held orders changed (expected {data['held']:,}, "
                        "none changed: a legal hold postpones anonymisation and every decay step)")
    if fresh_changed:
        problems.append(f"{label}: {fresh_changed:,} of {n_fresh:,} orders delivered after the decay cutoff changed")
    if faded_changed:
        problems.append(f"{label}: {faded_changed:,} of {n_faded:,} faded orders changed beyond the decaying columns")
    # Every distinct ciphertext left on anonymised rows must decrypt to its replacement (one per batch).
    distinct = 0
    for name, spec in entry.fields.items():
        field = Order._meta.get_field(name)
        if name not in encrypted_names(Order) or type(spec.erase).__name__ == "Keep":
            continue
        replacement = getattr(spec.erase, "replacement", "")
        blobs = [b for (b,) in sql(f"SELECT DISTINCT {field.column} FROM orders_order WHERE anonymised_at IS NOT NULL "
                                   f"AND reference LIKE '{BENCH_REF}%%'", fetch="all")]
        distinct += len(blobs)
        values = {decrypt(field, b) for b in blobs}
        if values - {replacement}:
            problems.append(f"{label}: {name} of anonymised orders decrypts to {len(values - {replacement})} other values")
    # Faded orders: each decaying field is what its step makes of the value it had.
    faded_values = 0
    for step in steps:
        for name in step.fields:
            field = Order._meta.get_field(name)
            pairs = sql(f"SELECT o.{field.column}, s.{field.column} FROM orders_order o JOIN bench_snapshot_order s "
                        f"ON s.id = o.id WHERE {faded} GROUP BY 1, 2", [cutoff], fetch="all")
            cache: dict = {}
            bad = sum(1 for new, old in pairs
                      if decrypt(field, new, cache) != step.apply(decrypt(field, old, cache)))
            faded_values += len(pairs)
            if bad:
                problems.append(f"{label}: {step.setting}: {bad} {name} values on faded orders are not "
                                f"{step.action.label} as declared")
    kept = list(Order.objects.filter(reference__startswith=BENCH_REF, anonymised_at__isnull=True)
                .order_by("?").values_list("email", "shipping_name", "shipping_city", "user_id")[:200])
    if not kept or any("@" not in e or not name or not city for e, name, city, _ in kept):
        problems.append(f"{label}: kept orders do not decrypt to their values")
    after = totals()
    for key in ("orders", "total", "lines", "line_total"):
        if after[key] != before[key]:
            problems.append(f"{label}: {key} changed: {before[key]} -> {after[key]}")
    expected_users = before["with_user"] - sql(
        f"SELECT count(user_id) FROM bench_snapshot_order o WHERE {due}", fetch="one")[0]
    if after["with_user"] != expected_users:
        problems.append(f"{label}: {after['with_user']:,} orders linked to users, expected {expected_users:,}")
    log(f"{label} checked: {anonymised:,} anonymised ({distinct} distinct ciphertexts, all blank); {n_held:,} held "
        f"untouched; {n_faded:,} faded ({faded_values:,} value pairs decrypted), {n_fresh:,} recent untouched; "
        f"{after['orders']:,} orders, sum(total) {after['total']}; problems: {len(problems)}")
    return problems


def check_counts(run, data: dict) -> list[str]:
    """The run's own record: the rules that had work counted it, and no other rule touched anything."""
    problems = []
    postponed = {"legal hold": data["held"]}
    want = {"orders.delivered": data["expected"], **data["decay_expected"]}
    for key, count in want.items():
        got = run.counts.get(key, {})
        if got.get("count") != count or got.get("postponed") != postponed:
            problems.append(f"purge: PurgeRun counts {key} = {got}, expected count {count:,}, postponed {postponed}")
    for key, got in run.counts.items():
        if key not in want and (got.get("count") or got.get("warn")):
            problems.append(f"purge: rule {key} changed rows it should not have: {got}")
    return problems


def snapshot() -> float:
    t = time.perf_counter()
    sql("CREATE TABLE bench_snapshot_order AS SELECT * FROM orders_order")
    sql("CREATE TABLE bench_snapshot_orderline AS SELECT * FROM orders_orderline")
    return time.perf_counter() - t


def restore() -> float:
    """orders_order and orders_orderline as they were before the purge (fresh tables, vacuumed)."""
    t = time.perf_counter()
    sql("TRUNCATE orders_order, orders_orderline CASCADE")
    sql("INSERT INTO orders_order SELECT * FROM bench_snapshot_order ORDER BY id")
    sql("INSERT INTO orders_orderline SELECT * FROM bench_snapshot_orderline ORDER BY id")
    sql("UPDATE shop_product SET stock = %s", [CHECKOUT_STOCK])
    for table in ("orders_order", "orders_orderline", "shop_product"):
        sql(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - t


# --- checkout load --------------------------------------------------------------------------
class Checkout(threading.Thread):
    """Every CHECKOUT_INTERVAL: UPDATE a product's stock + INSERT an order and its line, one
    transaction on this thread's own connection; records each transaction's latency."""

    counter = 0  # checkout order references, unique over the whole run

    def __init__(self, product_id: int, blobs: dict[str, bytes], index: str) -> None:
        super().__init__(daemon=True)
        self.product_id, self.blobs, self.index = product_id, blobs, index
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stop_event = threading.Event()

    def stop(self) -> list[float]:
        self.stop_event.set()
        self.join(timeout=CHECKOUT_TIMEOUT_MS / 1000 * 4)
        return self.latencies

    @staticmethod
    def insert_statement(blobs: dict[str, bytes]) -> tuple[str, list[str], list]:
        """INSERT of a pending order: the columns a checkout fills, plus every NOT NULL column with a
        default (from the model, so it follows the migrations); returns (SQL, filled columns, defaults)."""
        from orders.models import Order

        filled = [Order._meta.get_field(name).column for name in blobs] + [
            "reference", "email_index", "status", "currency", "subtotal", "shipping_cost", "duties", "total",
            "carrier", "tracking_number", "created_at"]
        _, fill = column_fill(Order, {*filled, "id"})
        defaults = {c: v for c, v in fill.items() if v is not None}
        columns = [*filled, *defaults]
        values = ["%s"] * (len(filled) - 1) + ["now()"] + ["%s"] * len(defaults)
        return (f"INSERT INTO orders_order ({', '.join(columns)}) VALUES ({', '.join(values)}) RETURNING id",
                filled, list(defaults.values()))

    def run(self) -> None:
        from django.db import connection, transaction

        from orders.models import Order

        insert, filled, defaults = self.insert_statement(self.blobs)
        fixed = {"email_index": self.index, "status": "pending_payment", "currency": "USD", "subtotal": PRICE,
                 "shipping_cost": 0, "duties": 0, "total": PRICE, "carrier": "", "tracking_number": ""}
        by_column = {Order._meta.get_field(name).column: value for name, value in self.blobs.items()}
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {CHECKOUT_TIMEOUT_MS}")
            start = time.perf_counter()
            for k in range(CHECKOUT_MAX):
                if self.stop_event.is_set():
                    break
                Checkout.counter += 1
                reference = f"{CHECKOUT_REF}{Checkout.counter:011d}"
                t0 = time.perf_counter()
                row = {**by_column, **fixed, "reference": reference}
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("UPDATE shop_product SET stock = stock - 1 WHERE id = %s", [self.product_id])
                    cursor.execute(insert, [row[c] for c in filled if c != "created_at"] + defaults)
                    order_id = cursor.fetchone()[0]
                    cursor.execute("INSERT INTO orders_orderline (order_id, product_id, product_name, unit_price, "
                                   "quantity, line_total) VALUES (%s, %s, 'Walnut Desk Lamp', %s, 1, %s)",
                                   [order_id, self.product_id, PRICE, PRICE])
                self.latencies.append(time.perf_counter() - t0)
                self.stop_event.wait(max(0.0, start + (k + 1) * CHECKOUT_INTERVAL - time.perf_counter()))
        except Exception as exc:  # reported, not raised: the purge measurement goes on
            self.errors.append(repr(exc))
        finally:
            connection.close()


def checkout_values() -> tuple[dict[str, bytes], str]:
    from orders.models import Order
    from privacy.protection.crypto import email_index

    values = {"email": "checkout@example.com", "shipping_name": "Ada Lovelace", "shipping_line1": "1 Analytical Row",
              "shipping_line2": "", "shipping_city": "London", "shipping_postal_code": "N1 9GU",
              "shipping_region": "", "shipping_country": "GB", "phone": "+44 20 7946 0000"}
    values = {name: values.get(name, "") for name in encrypted_names(Order)}
    return ({k: bytes(Order._meta.get_field(k)._dump(v)) for k, v in values.items()},
            email_index(values["email"]))


def with_checkout(product_id: int, fn):
    """Run fn() while the checkout thread runs; returns (fn's result, latencies, errors)."""
    blobs, index = checkout_values()
    worker = Checkout(product_id, blobs, index)
    worker.start()
    time.sleep(0.2)  # a few checkouts before
    try:
        result = fn()
    finally:
        time.sleep(0.2)
        latencies = worker.stop()
    return result, latencies, worker.errors


# --- purge instrumentation ------------------------------------------------------------------
class Probe:
    """Times every SQL statement of the purge's connection by kind, every rule (its run()), and
    every batch (Purger._tick); candidate SELECTs, UPDATEs and batch times are orders.delivered's."""

    def __init__(self, expected_batches: int) -> None:
        self.by_kind: dict[str, list] = defaultdict(lambda: [0, 0.0])
        self.candidates: list[float] = []  # orders.delivered candidate SELECT durations, in order
        self.updates: list[float] = []
        self.ticks: list[float] = []  # orders.delivered batches
        self.all_ticks = 0  # batches of every rule
        self.rule: str | None = None  # the rule running now
        self.rules: dict[str, list] = defaultdict(lambda: [0, 0.0, 0.0])  # key: batches, seconds, EXPLAIN seconds
        self.last_candidate = None
        self.explain_at = sorted({1, max(1, expected_batches // 2), max(1, expected_batches)})
        self.plans: list[tuple[int, str]] = []
        self.explain_seconds = 0.0
        self.expected = expected_batches
        self.started = time.perf_counter()
        self.rss_peak = rss_now()

    @staticmethod
    def kind(statement: str) -> str:
        s = statement.lstrip()
        if s.startswith("EXPLAIN"):
            return "explain"
        if (s.startswith('SELECT "orders_order"."id"') and ' FROM "orders_order" ' in s and " LIMIT " in s
                and ("ORDER BY 1 ASC" in s or 'ORDER BY "orders_order"."id" ASC' in s)):  # by pk: a batch
            return "candidates"
        if s.startswith('UPDATE "orders_order"'):
            return "anonymise"
        if "privacy_purgelock" in s:
            return "lease"
        return "other"

    def __call__(self, execute, statement, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            dt = time.perf_counter() - t0
            kind = self.kind(statement)
            self.by_kind[kind][0] += 1
            self.by_kind[kind][1] += dt
            if self.rule == "orders.delivered" and kind == "candidates":
                self.candidates.append(dt)
                self.last_candidate = (statement, params)
            elif self.rule == "orders.delivered" and kind == "anonymise":
                self.updates.append(dt)

    def tick(self) -> None:
        self.all_ticks += 1
        self.rules[self.rule or "?"][0] += 1
        self.rss_peak = max(self.rss_peak, rss_now())
        if self.rule != "orders.delivered":
            return
        self.ticks.append(time.perf_counter())
        done = len(self.ticks)
        if self.last_candidate and done in self.explain_at and len(self.plans) < len(self.explain_at):
            self.explain(done)
        if done % max(1, self.expected // 10) == 0:
            recent = self.ticks[-1] - self.ticks[max(0, done - 11)]
            log(f"  purge: batch {done:,}/{self.expected:,} after {time.perf_counter() - self.started:.0f} s "
                f"(last 10 batches {recent:.2f} s)")

    def explain(self, batch: int) -> None:
        from django.db import connection

        statement, params = self.last_candidate
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params)
            plan = "\n".join(r[0] for r in cursor.fetchall())
        self.explain_seconds += time.perf_counter() - t0
        self.rules[self.rule or "?"][2] += time.perf_counter() - t0
        self.plans.append((batch, plan))


def run_purge(batch_size: int, expected_batches: int, trace: bool, now: datetime | None = None):
    from django.db import connection

    from privacy.retention import purge as retention

    probe = Probe(expected_batches)
    original_tick = retention.Purger._tick
    rule_classes = (retention.DeclaredRule, retention.DecayRule, retention.HandRule)
    original_runs = {cls: cls.run for cls in rule_classes}

    def tick(purger):  # instrumentation only: counts and times batches, then the real _tick
        probe.tick()
        return original_tick(purger)

    def timed_run(original):  # instrumentation only: which rule runs, and for how long
        def run(rule, purger):
            probe.rule, t = rule.key, time.perf_counter()
            try:
                return original(rule, purger)
            finally:
                probe.rules[rule.key][1] += time.perf_counter() - t
                probe.rule = None
        return run

    gc.collect()
    rss = {"maxrss_before": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "start": rss_now()}
    probe.rss_peak = rss["start"]
    if trace:
        tracemalloc.start()
    retention.Purger._tick = tick
    for cls, original in original_runs.items():
        cls.run = timed_run(original)
    try:
        with connection.execute_wrapper(probe):
            probe.started = t0 = time.perf_counter()
            run = retention.purge(now=now, batch_size=batch_size)
            seconds = time.perf_counter() - t0
    finally:
        retention.Purger._tick = original_tick
        for cls, original in original_runs.items():
            cls.run = original
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
        if trace:
            tracemalloc.stop()
    rss.update(maxrss_after=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               peak=max(probe.rss_peak, rss_now()))
    return run, seconds, probe, peak, rss


def restore_backlog(upto_id: int) -> float:
    """Orders with id <= upto_id as they were before any purge (personal columns, user, anonymised_at)."""
    t = time.perf_counter()
    from orders.models import Order

    cols = [*(Order._meta.get_field(f).column for f in order_entry().fields), "user_id", "anonymised_at"]
    sql(f"UPDATE orders_order o SET {', '.join(f'{c} = s.{c}' for c in cols)} FROM bench_snapshot_order s "
        f"WHERE o.id = s.id AND o.id <= %s", [upto_id])
    sql("VACUUM ANALYZE orders_order")
    return time.perf_counter() - t


# --- floor ----------------------------------------------------------------------------------
ACTIVE_ORDER_HOLD = ("NOT EXISTS (SELECT 1 FROM privacy_legalhold h WHERE h.target = 'order' "
                     "AND h.order_id = o.id AND h.lifted_at IS NULL AND h.expires_at > now())")


def floor_update(now: datetime) -> dict:
    """The SQL floor of the same work, from the registry: ONE UPDATE blanking what _anonymise blanks on
    the rows orders.delivered selects, then ONE UPDATE fading what the decay steps fade on the rows
    they select (removed: the ciphertext of ""; shortened: joined to a table of each distinct
    ciphertext's shortened one, built beforehand and not timed: SQL cannot open a ciphertext)."""
    from django.db import connection, transaction
    from django_cryptography.fields import EncryptedMixin

    from orders.models import Order
    from privacy.registry import declarations as registry

    entry = order_entry()
    rule = next(r for r in entry.retention if r.setting == "orders.delivered")

    def blob(field, value):
        return bytes(field._dump(value)) if isinstance(field, EncryptedMixin) else value

    sets, params = [], []
    for name, personal in entry.fields.items():
        if isinstance(personal.erase, registry.Keep):
            continue
        replacement = personal.erase.replacement if isinstance(personal.erase, registry.Anonymise) else ""
        field = Order._meta.get_field(name)
        sets.append(f"{field.column} = %s")
        params.append(blob(field, replacement))
    sets += ["user_id = NULL", "anonymised_at = now()"]
    status_list = dict(rule.applies.children)["status__in"]
    anonymise = (f"UPDATE orders_order o SET {', '.join(sets)} WHERE o.status = ANY(%s) AND o.delivered_at <= %s "
                 f"AND o.anonymised_at IS NULL AND {ACTIVE_ORDER_HOLD}")
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(anonymise, [*params, list(status_list), now - rule.period])
        anonymised = cursor.rowcount
    anonymise_seconds = time.perf_counter() - t0

    steps = decay_steps()
    cutoff = now - steps[0].period
    where = dict(steps[0].when.children)
    where_sql = (f"o.status = ANY(%s) AND o.delivered_at IS NOT NULL AND o.delivered_at <= %s "
                 f"AND o.anonymised_at IS NULL AND {ACTIVE_ORDER_HOLD}")
    where_params = [list(where["status__in"]), cutoff]
    sets, params, joins = [], [], []
    t0 = time.perf_counter()
    for step in steps:
        for name in step.fields:
            field = Order._meta.get_field(name)
            if isinstance(step.action, registry.Truncate):
                table = f"bench_fade_{field.column}"
                olds = sql(f"SELECT DISTINCT o.{field.column} FROM orders_order o WHERE {where_sql}", where_params,
                           fetch="all")
                sql(f"DROP TABLE IF EXISTS {table}")
                sql(f"CREATE TABLE {table} (old bytea PRIMARY KEY, new bytea NOT NULL)")
                with connection.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO {table} VALUES (%s, %s)",
                                       [(bytes(b), blob(field, step.apply(decrypt(field, b)))) for (b,) in olds])
                sql(f"ANALYZE {table}")
                joins.append((table, field.column))
                sets.append(f"{field.column} = {table}.new")
            else:
                sets.append(f"{field.column} = %s")
                params.append(blob(field, step.apply("x")))
    prepare_seconds = time.perf_counter() - t0
    fade = (f"UPDATE orders_order o SET {', '.join(sets)}"
            + (f" FROM {', '.join(t for t, _ in joins)}" if joins else "")
            + f" WHERE {where_sql}" + "".join(f" AND {t}.old = o.{c}" for t, c in joins))
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(fade, [*params, *where_params])
        faded = cursor.rowcount
    fade_seconds = time.perf_counter() - t0
    return {"anonymised": anonymised, "anonymise_seconds": anonymise_seconds, "faded": faded,
            "fade_seconds": fade_seconds, "prepare_seconds": prepare_seconds, "statements": [anonymise, fade]}


# --- main -----------------------------------------------------------------------------------
def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    var_dir = Path(tempfile.mkdtemp(prefix="shop-bench-purge-"))
    configure_environment(var_dir)
    test_db_old_name = None
    problems: list[str] = []
    try:
        import django

        django.setup()
        from django.db import connection, connections
        from django.utils import timezone

        if connection.vendor != "postgresql":
            sys.exit("tests/bench/purge.py runs on PostgreSQL only")
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_purge_{os.getpid()}"
        test_db_old_name = connection.settings_dict["NAME"]
        log(f"creating database {connection.settings_dict['TEST']['NAME']} (migrate) ...")
        connection.creation.create_test_db(verbosity=0, autoclobber=False, serialize=False, keepdb=False)
        from django.core.management import call_command

        call_command("migrate", database="keys", verbosity=0, interactive=False)  # per-person keys
        server = sql("SELECT version(), current_setting('shared_buffers'), current_setting('work_mem'), "
                     "current_setting('fsync'), current_setting('synchronous_commit')", fetch="one")
        n = args.orders
        now = timezone.now()
        log(f"ready in {time.perf_counter() - started:.1f} s; building {n:,} orders + {n:,} lines (COPY) ...")
        data = build(n, now)
        build_seconds = data["pool_seconds"] + data["copy_orders"] + data["copy_lines"]
        log(f"built in {build_seconds:.1f} s (+ VACUUM ANALYZE {data['vacuum']:.1f} s); "
            f"{data['expected']:,} orders due, {data['held']:,} on legal hold")
        snap_seconds = snapshot()
        size = sql("SELECT pg_size_pretty(pg_total_relation_size('orders_order'))", fetch="one")[0]
        before = totals()
        log(f"snapshot in {snap_seconds:.1f} s; orders_order is {size}; checkout while idle "
            f"({CHECKOUT_IDLE_SECONDS:.0f} s) ...")
        _, idle_lat, idle_err = with_checkout(data["product_id"], lambda: time.sleep(CHECKOUT_IDLE_SECONDS))

        # The purge runs at a fixed `now`, so which orders are due (retention, decay) is known exactly.
        purge_now = timezone.now()
        data["decay_cutoff"] = purge_now - decay_steps()[0].period
        data["n_faded"] = sql("SELECT count(*) FROM bench_snapshot_order o WHERE o.id > %s AND o.delivered_at <= %s",
                              [data["n_expired"], data["decay_cutoff"]], fetch="one")[0]
        data["decay_expected"] = decay_expectations(data["n_expired"], data["decay_cutoff"])
        expected_batches = -(-data["expected"] // args.batch_size)
        log(f"purge() with batch_size={args.batch_size} ({expected_batches:,} orders.delivered batches expected; "
            f"{data['n_faded']:,} recent orders past the decay cutoff, to change: {data['decay_expected']}) ...")
        (run, purge_seconds, probe, _, rss), purge_lat, purge_err = with_checkout(
            data["product_id"], lambda: run_purge(args.batch_size, expected_batches, False, purge_now))
        purge_net = purge_seconds - probe.explain_seconds
        counts = run.counts.get("orders.delivered", {})
        anonymised = counts.get("count", 0)
        decayed = {key: run.counts.get(key, {}).get("count", 0) for key in data["decay_expected"]}
        log(f"purge done in {purge_seconds:.1f} s (EXPLAINs {probe.explain_seconds:.1f} s left out); "
            f"status {run.status}, errors {run.errors}, orders.delivered {counts}, decay {decayed}")
        if run.status != "finished" or run.errors:
            problems.append(f"purge: status {run.status}, errors {run.errors}")
        problems += check_counts(run, data)
        problems += check("purge", data, before)

        log("restoring the tables from the snapshot ...")
        restore_seconds = restore()
        log(f"restored in {restore_seconds:.1f} s; the floor: one UPDATE to anonymise, one to fade ...")
        floor, floor_lat, floor_err = with_checkout(data["product_id"], lambda: floor_update(purge_now))
        floor_rows, floor_seconds = floor["anonymised"], floor["anonymise_seconds"] + floor["fade_seconds"]
        if floor["anonymised"] != data["expected"]:
            problems.append(f"floor: anonymising UPDATE touched {floor['anonymised']:,} rows, expected {data['expected']:,}")
        if floor["faded"] != data["n_faded"]:
            problems.append(f"floor: fading UPDATE touched {floor['faded']:,} rows, expected {data['n_faded']:,}")
        problems += check("floor", data, before)
        traced = None
        if not args.no_tracemalloc:
            upto = min(TRACE_BACKLOG, n)
            due = sql(f"SELECT count(*) FROM bench_snapshot_order o WHERE o.id <= %s AND o.id <= %s "
                      f"AND NOT {held_sql(data['n_expired'])}", [upto, data["n_expired"]], fetch="one")[0]
            log(f"traced purge() for the Python heap peak: restoring {due:,} due orders (ids <= {upto:,}) ...")
            restore_backlog(upto)
            t_run, t_seconds, _, t_peak, t_rss = run_purge(args.batch_size, -(-due // args.batch_size), True,
                                                           purge_now)
            t_count = t_run.counts.get("orders.delivered", {}).get("count", 0)
            if t_count != due or t_run.status != "finished":
                problems.append(f"traced purge: {t_count:,} anonymised (expected {due:,}), status {t_run.status}")
            traced = (due, t_seconds, t_peak, t_rss)
        for label, errors in (("idle", idle_err), ("purge", purge_err), ("floor", floor_err)):
            if errors:
                problems.append(f"checkout during {label}: {errors[:3]}")

        # --- report -------------------------------------------------------------------------
        import cryptography

        dl = probe.ticks
        delivered_batches = len(probe.candidates) - 1 if probe.candidates else 0  # the last SELECT finds none
        batch_times = [b - a for a, b in itertools.pairwise(dl)]
        head, tail = batch_times[:10], batch_times[-10:]
        cand, upd = probe.candidates, probe.updates
        kinds = probe.by_kind
        timed = sum(v[1] for k, v in kinds.items() if k != "explain")
        table = Table()
        table.add("build: value pools (7 fields x 1,000 encryptions) + users", None, data["pool_seconds"],
                  f"{USERS:,} users (ORM), 1 product", rate=False)
        table.add("build: COPY orders_order", n, data["copy_orders"], f"orders_order {size} after load")
        table.add("build: COPY orders_orderline", n, data["copy_lines"])
        table.add("build: total (pools + both COPYs)", 2 * n, build_seconds,
                  f"of which Python row formatting {data['python_rows']:.1f} s; + VACUUM ANALYZE "
                  f"{data['vacuum']:.1f} s, snapshot {snap_seconds:.1f} s (not counted)")
        table.add("purge(): whole run, all rules", anonymised, purge_net,
                  f"batch_size {args.batch_size}; {probe.all_ticks:,} batches (ticks), {len(dl):,} of them "
                  f"orders.delivered's; status {run.status}; rows/s counts anonymised orders only")
        rule_rows = probe.rules
        delivered_net = rule_rows["orders.delivered"][1] - rule_rows["orders.delivered"][2]
        decay_seconds = sum(rule_rows[key][1] for key in data["decay_expected"])
        table.add("  rule orders.delivered (anonymise)", anonymised, delivered_net,
                  f"{rule_rows['orders.delivered'][0]:,} batches; postponed {counts.get('postponed')}")
        table.add("  decay steps (orders.*: phone, street, postcode)", data["n_faded"], decay_seconds,
                  "; ".join(f"{key.split('.', 1)[1]} {decayed[key]:,} rows in {rule_rows[key][1]:.2f} s"
                            for key in data["decay_expected"]))
        other_rules = purge_net - delivered_net - decay_seconds
        table.add("  every other rule (nothing to do here)", None, other_rules, rate=False)
        def spread(values: list[float]) -> str:
            if not values:
                return ""
            return (f"median of first 10 {statistics.median(values[:10]) * 1000:.1f} ms, of all "
                    f"{statistics.median(values) * 1000:.1f} ms, of last 10 {statistics.median(values[-10:]) * 1000:.1f} ms")

        table.add("  orders.delivered candidate SELECTs", len(cand), sum(cand), spread(cand), rate=False)
        table.add("  orders.delivered anonymising UPDATEs", len(upd), sum(upd), spread(upd), rate=False)
        table.add("  lease renewals (PurgeLock)", kinds["lease"][0], kinds["lease"][1], rate=False)
        table.add("  other SQL (counts, postponements, decay steps, other rules)",
                  kinds["other"][0] + kinds["anonymise"][0] - len(upd) + kinds["candidates"][0] - len(cand),
                  kinds["other"][1] + kinds["anonymise"][1] - sum(upd) + kinds["candidates"][1] - sum(cand),
                  rate=False)
        table.add("  not in SQL (Python: decrypting and encrypting, commits)", None, purge_net - timed, rate=False)
        if head and tail:
            table.add("  batch wall time, first 10 / last 10", None, None,
                      f"median {statistics.median(head) * 1000:.1f} ms / {statistics.median(tail) * 1000:.1f} ms "
                      f"(x{statistics.median(tail) / statistics.median(head):.1f})")
        table.add("  memory (this run, untraced)", None, None,
                  f"RSS {rss['start']:.0f} MiB at start, peak {rss['peak']:.0f} MiB (sampled every batch); "
                  f"ru_maxrss {rss['maxrss_before']:.0f} -> {rss['maxrss_after']:.0f} MiB (process since start)")
        if traced:
            due, t_seconds, t_peak, t_rss = traced
            table.add("  memory: purge() under tracemalloc", due, t_seconds,
                      f"Python heap peak {t_peak:.2f} MiB; RSS peak {t_rss['peak']:.0f} MiB; "
                      f"{due:,}-order backlog on the {n:,}-order table; slowed by tracing", rate=False)
        table.add("floor: ONE plain UPDATE anonymising", floor["anonymised"], floor["anonymise_seconds"],
                  "same rows, same columns, 1 transaction")
        table.add("floor: ONE plain UPDATE fading", floor["faded"], floor["fade_seconds"],
                  f"same rows, same columns; postcodes from a lookup table built first ({floor['prepare_seconds']:.2f} s, "
                  "not counted)")
        table.add("floor: both", floor_rows, floor_seconds, "rows/s counts anonymised orders, as for purge()")
        ratio = purge_net / floor_seconds if floor_seconds else float("nan")
        delivered_ratio = delivered_net / floor["anonymise_seconds"] if floor["anonymise_seconds"] else float("nan")
        decay_ratio = decay_seconds / floor["fade_seconds"] if floor["fade_seconds"] else float("nan")
        table.add("purge / floor", None, None, f"x{ratio:.1f}  <- headline (orders.delivered / its UPDATE "
                  f"x{delivered_ratio:.1f}; decay steps / their UPDATE x{decay_ratio:.1f})")
        table.add("checkout latency, idle", len(idle_lat), None, latency_note(idle_lat))
        table.add("checkout latency, during purge()", len(purge_lat), None, latency_note(purge_lat))
        table.add("checkout latency, during floor UPDATEs", len(floor_lat), None, latency_note(floor_lat))
        table.add("restore from snapshot (not timed above)", n, restore_seconds, "TRUNCATE + INSERT + VACUUM")

        print()
        print(f"Purge benchmark: {n:,} orders ({data['expected']:,} due, {data['held']:,} held, "
              f"{n - data['n_expired']:,} recent of which {data['n_faded']:,} past the decay cutoff), batch_size {args.batch_size}; {server[0].split(',')[0]}, "
              f"shared_buffers {server[1]}, work_mem {server[2]}, fsync {server[3]}, synchronous_commit "
              f"{server[4]}; Python {platform.python_version()}, Django {django.get_version()}, cryptography "
              f"{cryptography.__version__}, {os.cpu_count()} CPUs")
        print()
        table.print()
        print()
        print(f"Headline: purge() anonymised {anonymised:,} orders and faded {data['n_faded']:,} in {purge_net:.1f} s "
              f"({anonymised / purge_net:,.0f} anonymised rows/s); two plain UPDATEs did it in {floor_seconds:.1f} s "
              f"({floor_rows / floor_seconds:,.0f} rows/s): purge / floor = x{ratio:.1f}. orders.delivered alone: "
              f"{delivered_net:.1f} s vs {floor['anonymise_seconds']:.1f} s, x{delivered_ratio:.1f}")
        print(f"orders.delivered: {delivered_batches:,} batches; candidate SELECTs {sum(cand):.1f} s "
              f"({sum(cand) / purge_net:.0%} of the purge), UPDATEs {sum(upd):.1f} s ({sum(upd) / purge_net:.0%})")
        for batch, plan in probe.plans:
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the candidate query right after batch {batch:,} committed "
                  f"(what the SELECT for batch {batch + 1:,} does):")
            print("\n".join("    " + line for line in plan.splitlines()))
        print("\nFloor statements:\n" + "\n".join(f"    {statement}" for statement in floor["statements"]))
        if problems:
            print("\nCHECKS FAILED:")
            for p in problems:
                print(f"  - {p}")
        else:
            print("\nChecks passed (after purge() and after the floor): exactly the due orders anonymised (every "
                  "personal column decrypts to '', user and blind index gone, the rest as before); orders under a "
                  "legal hold untouched (no decay either); recent orders past the decay cutoff lost phone and street "
                  "and kept a shortened postcode, nothing else changed; newer orders untouched; the run's counts "
                  "and postponements as expected, no other rule touched anything; order and line counts and "
                  "totals unchanged.")
        print(f"Total run {time.perf_counter() - started:.1f} s")
        connections.close_all()
        return 1 if problems else 0
    finally:
        try:
            if test_db_old_name is not None:
                from django.db import connection

                connection.creation.destroy_test_db(test_db_old_name, verbosity=0, keepdb=False)
                log("database dropped")
        except Exception as exc:
            log(f"database clean-up failed: {exc!r}")
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
