"""Encryption benchmark: what encrypting personal fields at rest costs the order list and writes.

    .venv/bin/python tests/bench/encryption.py [--orders 5000] [--repeat 5]

Builds a throw-away shop in a temporary folder (SHOP_ENV=local, DEBUG=0, fresh keys, a fresh
SQLite file migrated with `migrate`), loads N orders with their personal fields encrypted
(email, name, address, phone; one order line each) and measures, each R times (median):

    orders list, encrypted fields       values_list(reference, status, total, email, shipping_name,
                                        shipping_city, shipping_country), 100 rows (an admin page)
                                        and all N rows: 4 decryptions a row
    orders list, same query plain       values_list(reference, status, total, created_at, currency,
                                        carrier, tracking_number): same rows, nothing decrypted
    raw SQL fetch of both               the same SQL through a cursor, no converters (what the
                                        database and driver cost alone)
    KEY_RING.decrypt alone              the 4 x N blobs of the list, decrypted without the ORM
    masking                             decrypt + mask_email / mask_name (city and country shown
                                        as they are, as the admin does) per row
    writes                              bulk_create of 1,000 orders with real values vs 1,000 with
                                        empty strings (still 9 encryptions a row, small ones), and
                                        KEY_RING.encrypt alone on the same pickled values
    admin changelist                    /staff/orders/order/ through Django's test Client as an MFA
                                        superuser (100 rows a page), with the query count

"ratio" is encrypted / plain for the list operations: the headline encryption overhead.
Set DATABASE_URL (e.g. postgres://...) to run on that server instead: a separate database
`bench_encryption_<pid>` is created there (Django's test-database creation, which runs
`migrate`) and dropped at the end; the database named in the URL is never touched.

Prints figures only (no assertions on speed). Nothing here is part of the test suite (pytest
collects only test_*.py). Talks to no network (a PostgreSQL server named by DATABASE_URL
excepted); removes its temporary folder at the end.
"""
from __future__ import annotations

import argparse
import gc
import os
import pickle
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
ADMIN_PAGE = 100      # ModelAdmin.list_per_page: the rows on one admin order-list page
WRITE_ROWS = 1_000    # orders per timed bulk_create
LOAD_BATCH = 1_000    # orders per bulk_create while loading
MAX_ORDERS = 200_000  # bounds: the script must stay a short, bounded run
MAX_REPEAT = 50
PRICE = Decimal("19.99")

ENCRYPTED_LIST = ("reference", "status", "total", "email", "shipping_name", "shipping_city", "shipping_country")
PLAIN_LIST = ("reference", "status", "total", "created_at", "currency", "carrier", "tracking_number")
WRITE_FIELDS = ("email", "shipping_name", "shipping_line1", "shipping_line2", "shipping_city",
                "shipping_postal_code", "shipping_region", "shipping_country", "phone")  # all 9 encrypted

FIRST = ["Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Dennis", "Margaret",
         "Tim", "Radia", "Ken", "Hedy", "John", "Sophie"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen", "Ritchie",
        "Hamilton", "Berners-Lee", "Perlman", "Thompson", "Lamarr", "McCarthy", "Wilson"]
STREETS = ["Analytical Row", "Compiler Lane", "Enigma Street", "Orbit Avenue", "Semaphore Road",
           "Lambda Close", "Kernel Way", "Packet Place"]
PLACES = [("London", "GB", "N1 9GU", "+44 20 7946 "), ("Paris", "FR", "75011", "+33 1 70 36 "),
          ("Berlin", "DE", "10115", "+49 30 901820 "), ("Toronto", "CA", "M5V 2T6", "+1 416 555 "),
          ("Lisbon", "PT", "1100-148", "+351 21 340 "), ("Osaka", "JP", "530-0001", "+81 6 6345 ")]
STATUSES = ["paid", "shipped", "delivered", "completed", "completed", "completed", "pending_payment",
            "cancelled"]


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5_000, help="orders to load (default 5000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per operation (default 5)")
    parser.add_argument("--no-admin", action="store_true", help="skip the admin changelist pages")
    args = parser.parse_args()
    if not ADMIN_PAGE <= args.orders <= MAX_ORDERS:
        parser.error(f"--orders must be between {ADMIN_PAGE} and {MAX_ORDERS}")
    if not 1 <= args.repeat <= MAX_REPEAT:
        parser.error(f"--repeat must be between 1 and {MAX_REPEAT}")
    return args


def configure_environment(var_dir: Path) -> str | None:
    """Environment for a self-contained shop; returns DATABASE_URL if the caller set one."""
    external_db = os.environ.get("DATABASE_URL") or None
    # Fresh keys generated into the temporary folder; no cache, broker or payment service.
    for name in ("SECRET_KEY", "CRYPTOGRAPHY_KEY", "CRYPTOGRAPHY_OLD_KEYS", "BLIND_INDEX_KEY", "CACHE_URL",
                 "REDIS_URL", "ALLOWED_HOSTS", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                 "STRIPE_API_BASE", "ADMIN_URL"):
        os.environ.pop(name, None)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "SHOP_ENV": "local", "DEBUG": "0",
        "SHOP_VAR_DIR": str(var_dir), "SHOP_MEDIA_ROOT": str(var_dir / "media"),
        "SHOP_PRIVATE_ROOT": str(var_dir / "private"), "CACHE_URL": "locmemcache://bench",
        "CELERY_BROKER_URL": "filesystem://", "CELERY_TASK_ALWAYS_EAGER": "0", "PAYMENT_GATEWAY": "offline",
        "STRIPE_SECRET_KEY": "", "EMAIL_URL": "consolemail://", "LOG_LEVEL": "WARNING",
        "DATABASE_URL": external_db or f"sqlite:///{var_dir / 'db.sqlite3'}",
    })
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    return external_db


# --- timing ---------------------------------------------------------------------------------
def timed_runs(fn, repeat: int, *, warmup: int = 2, setup=None, teardown=None):
    """Median wall time of `repeat` calls of fn(setup()); setup and teardown are not timed."""
    times, result = [], None
    for i in range(warmup + repeat):
        arg = setup() if setup else None
        gc.collect()
        start = time.perf_counter()
        result = fn(arg) if setup else fn()
        elapsed = time.perf_counter() - start
        if teardown:
            teardown(arg)
        if i >= warmup:
            times.append(elapsed)
    return statistics.median(times), result


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, float, str, str]] = []

    def add(self, operation: str, rows: int, seconds: float, ratio: float | None = None, note: str = "") -> float:
        self.rows.append((operation, rows, seconds, "" if ratio is None else f"x{ratio:.2f}", note))
        return seconds

    def print(self) -> None:
        head = ("operation", "rows", "median s", "rows/s", "ratio", "note")
        body = [(op, f"{rows:,}", f"{s:.4f}", f"{rows / s:,.0f}" if s else "-", ratio, note)
                for op, rows, s, ratio, note in self.rows]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        align = ["<", ">", ">", ">", ">", "<"]
        line = lambda r: "  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, align, widths, strict=True)).rstrip()  # noqa: E731
        print(line(head))
        print("  ".join("-" * w for w in widths))
        for r in body:
            print(line(r))


# --- data -----------------------------------------------------------------------------------
def build_order(i: int, *, created_at, empty: bool = False):
    from orders.models import Order
    from privacy.protection.crypto import email_index

    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    city, country, postcode, phone = PLACES[i % len(PLACES)]
    status = STATUSES[i % len(STATUSES)]
    values = {
        "email": f"{first.lower()}.{last.lower()}.{i}@example.com",
        "shipping_name": f"{first} {last}",
        "shipping_line1": f"{i % 250 + 1} {STREETS[i % len(STREETS)]}",
        "shipping_line2": "Flat 2" if i % 5 == 0 else "",
        "shipping_city": city,
        "shipping_postal_code": postcode,
        "shipping_region": "",
        "shipping_country": country,
        "phone": f"{phone}{i % 10000:04d}",
    }
    if empty:
        values = dict.fromkeys(values, "")
    shipped = status in {"shipped", "delivered", "completed"}
    paid = shipped or status == "paid"
    return Order(
        **values, email_index=email_index(values["email"]), status=status, subtotal=PRICE, total=PRICE,
        carrier="Royal Mail" if shipped else "", tracking_number=f"RM{i:09d}GB" if shipped else "",
        created_at=created_at, paid_at=created_at + timedelta(minutes=2) if paid else None,
        shipped_at=created_at + timedelta(days=1) if shipped else None,
    )


def load_orders(n: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from orders.models import Order, OrderLine

    now = timezone.now()
    step = timedelta(days=365) / n  # a year of orders, newest first
    for start in range(0, n, LOAD_BATCH):
        orders = [build_order(i, created_at=now - step * i) for i in range(start, min(n, start + LOAD_BATCH))]
        with transaction.atomic():
            Order.objects.bulk_create(orders, batch_size=LOAD_BATCH)
            if any(o.pk is None for o in orders):  # a database that returns no ids from bulk inserts
                ids = dict(Order.objects.filter(reference__in=[o.reference for o in orders])
                           .values_list("reference", "pk"))
                for o in orders:
                    o.pk = ids[o.reference]
            OrderLine.objects.bulk_create(
                [OrderLine(order_id=o.pk, product_name="Walnut Desk Lamp", unit_price=PRICE, quantity=1,
                           line_total=PRICE) for o in orders], batch_size=LOAD_BATCH)


# --- measurements ---------------------------------------------------------------------------
def bench_lists(table: Table, n: int, repeat: int) -> dict[str, float]:
    from django.db import connection

    from orders.models import Order
    from privacy.protection.crypto import KEY_RING
    from privacy.protection.masking import mask_email, mask_name, show

    def query(fields, limit):
        return Order.objects.order_by("-created_at").values_list(*fields)[:limit]

    def raw(sql_params):
        sql, params = sql_params
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def masked(limit):
        return [(ref, status, total, mask_email(email), mask_name(name), show(city), show(country))
                for ref, status, total, email, name, city, country in query(ENCRYPTED_LIST, limit)]

    headline = {}
    for limit, label in ((ADMIN_PAGE, "admin page"), (n, "all")):
        rows = min(limit, n)
        enc, result = timed_runs(lambda: list(query(ENCRYPTED_LIST, limit)), repeat)
        assert len(result) == rows and "@" in result[0][3], "decryption did not happen"
        plain, result = timed_runs(lambda: list(query(PLAIN_LIST, limit)), repeat)
        assert len(result) == rows
        headline[label] = enc / plain
        table.add(f"orders list, encrypted fields ({label})", rows, enc, enc / plain, "4 decrypts/row")
        table.add(f"orders list, same query plain ({label})", rows, plain, None, "no decryption")

        raw_enc_sql = query(ENCRYPTED_LIST, limit).query.sql_with_params()
        raw_plain_sql = query(PLAIN_LIST, limit).query.sql_with_params()
        raw_enc, blobs = timed_runs(lambda: raw(raw_enc_sql), repeat)
        raw_plain, _ = timed_runs(lambda: raw(raw_plain_sql), repeat)
        table.add(f"  raw SQL fetch, encrypted columns ({label})", rows, raw_enc, raw_enc / raw_plain,
                  "cursor only, blobs not decrypted")
        table.add(f"  raw SQL fetch, plain columns ({label})", rows, raw_plain, None, "cursor only")

        tokens = [bytes(b) for row in blobs for b in row[3:7]]
        dec, _ = timed_runs(lambda: [KEY_RING.decrypt(t) for t in tokens], repeat)
        table.add(f"  KEY_RING.decrypt alone ({label})", rows, dec, None,
                  f"{len(tokens):,} decrypts = {dec / enc:.0%} of the encrypted list")

        mask, result = timed_runs(lambda: masked(limit), repeat)
        assert "\u2022" in result[0][3]
        table.add(f"masking: decrypt + mask ({label})", rows, mask, mask / plain,
                  "mask_email, mask_name; city, country shown")
        decrypted = list(query(ENCRYPTED_LIST, limit))
        mask_only, _ = timed_runs(lambda: [(mask_email(r[3]), mask_name(r[4])) for r in decrypted], repeat)
        table.add(f"  mask alone ({label})", rows, mask_only, None, "on already decrypted rows")
    return headline


def bench_writes(table: Table, repeat: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from orders.models import Order
    from privacy.protection.crypto import KEY_RING

    made: list[int] = []

    def build(empty):
        now = timezone.now() - timedelta(days=400)  # older than every loaded order: lists stay unchanged
        return [build_order(1_000_000 + i, created_at=now - timedelta(seconds=i), empty=empty)
                for i in range(WRITE_ROWS)]

    def insert(objs):
        with transaction.atomic():
            Order.objects.bulk_create(objs, batch_size=WRITE_ROWS)
        return objs

    def remove(objs):  # not timed: keeps the table at N orders for every run
        Order.objects.filter(pk__in=[o.pk for o in objs if o.pk]).delete()
        made.append(len(objs))

    full, _ = timed_runs(insert, repeat, warmup=1, setup=lambda: build(False), teardown=remove)
    empty, _ = timed_runs(insert, repeat, warmup=1, setup=lambda: build(True), teardown=remove)
    table.add("write: bulk_create, real personal values", WRITE_ROWS, full, full / empty,
              f"{len(WRITE_FIELDS)} encrypts/row; ratio vs empty values")
    table.add("write: bulk_create, empty personal values", WRITE_ROWS, empty, None,
              "still encrypted, small plaintexts")

    payloads = [pickle.dumps(getattr(o, f)) for o in build(False) for f in WRITE_FIELDS]  # as the field does
    enc, tokens = timed_runs(lambda: [KEY_RING.encrypt(p) for p in payloads], repeat)
    assert KEY_RING.decrypt(tokens[0]) == payloads[0]
    table.add("  KEY_RING.encrypt alone, same values", WRITE_ROWS, enc, None,
              f"{len(payloads):,} encrypts = {enc / full:.0%} of the real-values bulk_create")
    assert Order.objects.filter(created_at__lt=timezone.now() - timedelta(days=390)).count() == 0


def bench_admin(table: Table, repeat: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from privacy.protection.crypto import KEY_RING
    from tests.factories import staff_user

    user = staff_user(is_superuser=True)  # MFA enabled: the admin opens only with it
    client = Client()
    client.force_login(user)
    url = reverse("admin:orders_order_changelist")

    first = client.get(url)  # warm-up (creates the audit chain head, fills template caches)
    if first.status_code != 200:
        raise RuntimeError(f"admin changelist answered {first.status_code} (Location: {first.get('Location')})")
    shown = len(first.context_data["cl"].result_list)

    counts: list[int] = []

    def page():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
        return response

    ms, response = timed_runs(page, repeat, warmup=0)
    body = response.content.decode()
    emails = [o.email for o in response.context_data["cl"].result_list]
    assert "\u2022\u2022\u2022@" in body and not any(e in body for e in emails), "the admin list is not masked"

    # How many values one page decrypts (the ring is the one the fields use; restored at once).
    calls = 0
    original = KEY_RING.decrypt

    def counting(data, ttl=None):
        nonlocal calls
        calls += 1
        return original(data, ttl)

    KEY_RING.decrypt = counting
    try:
        client.get(url)
    finally:
        del KEY_RING.decrypt
    table.add("admin changelist page (test Client, superuser)", shown, ms, None,
              f"{ms * 1000:.0f} ms/page, {statistics.median(counts):.0f} queries, {calls} decrypts/page")
    return {"ms": ms * 1000, "queries": counts, "decrypts": calls, "rows": shown}


def python_heap_peaks(n: int) -> tuple[float, float]:
    """tracemalloc peak (MiB) of one all-rows list, encrypted vs plain (run once, after the timings)."""
    from orders.models import Order

    peaks = []
    for fields in (ENCRYPTED_LIST, PLAIN_LIST):
        gc.collect()
        tracemalloc.start()
        rows = list(Order.objects.order_by("-created_at").values_list(*fields)[:n])
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
        del rows
    return peaks[0], peaks[1]


# --- main -----------------------------------------------------------------------------------
def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    var_dir = Path(tempfile.mkdtemp(prefix="shop-bench-encryption-"))
    external_db = configure_environment(var_dir)
    test_db_old_name = None
    try:
        import django

        django.setup()
        import cryptography
        from django.core.management import call_command
        from django.db import connection, connections

        if external_db:
            # Never the database named in the URL: a separate, uniquely named throw-away database.
            connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_encryption_{os.getpid()}"
            test_db_old_name = connection.settings_dict["NAME"]
            log(f"creating database {connection.settings_dict['TEST']['NAME']} on {connection.vendor} (migrate) ...")
            connection.creation.create_test_db(verbosity=0, autoclobber=False, serialize=False, keepdb=False)
        else:
            log(f"migrating a fresh SQLite database in {var_dir} ...")
            call_command("migrate", verbosity=0, interactive=False)
        call_command("migrate", database="keys", verbosity=0, interactive=False)  # per-person keys
        t = time.perf_counter()
        log(f"ready in {t - started:.1f} s; loading {args.orders:,} orders (+1 line each) ...")
        load_orders(args.orders)
        log(f"loaded in {time.perf_counter() - t:.1f} s; measuring ({args.repeat} runs each, median) ...")

        table = Table()
        headline = bench_lists(table, args.orders, args.repeat)
        admin = None if args.no_admin else bench_admin(table, args.repeat)
        bench_writes(table, args.repeat)
        enc_peak, plain_peak = python_heap_peaks(args.orders)

        from orders.models import Order

        print()
        print(f"Encryption benchmark: {args.orders:,} orders, {args.repeat} runs per operation (median), "
              f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}"
              .rstrip() + f", Python {platform.python_version()}, Django {django.get_version()}, "
              f"cryptography {cryptography.__version__}, {os.cpu_count()} CPUs, DEBUG off")
        print()
        table.print()
        print()
        print(f"Encryption overhead on the order list (encrypted / plain, same rows): "
              f"x{headline['admin page']:.2f} for {ADMIN_PAGE} rows, x{headline['all']:.2f} for "
              f"{args.orders:,} rows")
        if admin:
            print(f"Admin order list: {admin['ms']:.0f} ms per page of {admin['rows']} rows, "
                  f"{statistics.median(admin['queries']):.0f} queries, {admin['decrypts']} decryptions "
                  f"({admin['decrypts'] / max(admin['rows'], 1):.0f} per row; the list shows 4 personal columns)")
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(f"Peak memory: {maxrss:.0f} MiB resident (ru_maxrss, whole run); Python heap for one "
              f"{args.orders:,}-row list: {enc_peak:.1f} MiB encrypted vs {plain_peak:.1f} MiB plain (tracemalloc)")
        print(f"Orders in the database at the end: {Order.objects.count():,}; "
              f"total run {time.perf_counter() - started:.1f} s")
        connections.close_all()
        return 0
    finally:
        try:
            if test_db_old_name is not None:
                from django.db import connection

                connection.creation.destroy_test_db(test_db_old_name, verbosity=0, keepdb=False)
            else:
                from django.db import connections

                connections.close_all()
        except Exception as exc:  # never leave the temporary folder behind because of the database
            log(f"database clean-up failed: {exc!r}")
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
