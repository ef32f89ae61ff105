"""Rights benchmark: what an access/portability export and an erasure cost for a customer with
many orders, and proof that their number of SQL queries does not grow with the orders.

    .venv/bin/python tests/bench/rights.py [--orders 1000,10000] [--repeat 3]

Builds a throw-away shop in a temporary folder (SHOP_ENV=local, DEBUG=0, fresh keys, a fresh
SQLite file migrated with `migrate`), as tests/bench/encryption.py does. For each size N in
--orders it creates a "rich user" (as tests/privacy/rights/conftest.py, with N orders instead of 3):
a user with name and phone and a verified email, 3 addresses, a cart with an item, 5 consents
given and 2 withdrawn (privacy.consent.ledger.record), 200 browsing events, a marketing subscription,
a privacy request, 2 disclosures to processors, and N orders (bulk_create, the 9 encrypted
personal fields filled, one OrderLine each by bulk_create, a Payment for every 10th order).

It measures, R times (median):

    export    export_document(user=...) + export_archive(doc) + KEY_RING.encrypt(...): what the
              Celery job (privacy.rights.export.export_build) does, file write aside. One warm-up run.
    erasure   erase_subject(user=...), all orders set to completed first (not timed). Erasure
              is destructive: every run gets a freshly created user with the same data (the
              export's user serves the first run). Creating it, and deleting the anonymised
              orders, lines and payments an erasure keeps (so every run sees the same
              tables), are not timed.

Queries are counted with django.test.utils.CaptureQueriesContext on the default connection
during the timed runs. Peak memory is the tracemalloc peak of one extra run of the step (not
timed: tracemalloc slows Python down); it sees Python's heap, not SQLite's or libpq's own
buffers. The archive size is the encrypted blob's length. After each erasure the script
checks that the person's orders are anonymised and unlinked, and reports (NOTE) payments
that still hold card details.

Set DATABASE_URL (e.g. postgres://...) to run on that server instead: a separate database
`bench_rights_<pid>` is created there (Django's test-database creation, which runs `migrate`)
and dropped at the end; the database named in the URL is never touched.

Prints figures only (no assertions on speed; a few on correctness). Nothing here is part of
the test suite (pytest collects only test_*.py). Talks to no network (a PostgreSQL server
named by DATABASE_URL excepted); removes its temporary folder at the end.
"""
from __future__ import annotations

import argparse
import gc
import os
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
LOAD_BATCH = 1_000    # orders per bulk_create while loading
MAX_ORDERS = 100_000  # bounds: the script must stay a short, bounded run
MAX_SIZES = 5
MAX_REPEAT = 20
PAYMENT_EVERY = 10    # a Payment for 10% of the orders
ADDRESSES = 3
BROWSING_EVENTS = 200
WARMUP_ORDERS = 20
PRICE = Decimal("19.99")

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
    parser.add_argument("--orders", default="1000,10000",
                        help="comma-separated numbers of orders of the user (default 1000,10000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per operation and size (default 3)")
    args = parser.parse_args()
    try:
        sizes = [int(s.replace("_", "")) for s in args.orders.split(",") if s.strip()]
    except ValueError:
        parser.error("--orders takes comma-separated integers, e.g. 1000,10000")
    if not 1 <= len(sizes) <= MAX_SIZES:
        parser.error(f"--orders takes 1 to {MAX_SIZES} sizes")
    if any(not 1 <= n <= MAX_ORDERS for n in sizes):
        parser.error(f"each size in --orders must be between 1 and {MAX_ORDERS}")
    if not 1 <= args.repeat <= MAX_REPEAT:
        parser.error(f"--repeat must be between 1 and {MAX_REPEAT}")
    args.sizes = sizes
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


# --- data -----------------------------------------------------------------------------------
_serial = 0


def _product():
    from shop.models import Product
    from tests.factories import ProductFactory

    return Product.objects.filter(slug="bench-walnut-desk-lamp").first() or ProductFactory(
        name="Bench Walnut Desk Lamp", slug="bench-walnut-desk-lamp")


def make_subject(n: int):
    """A customer with data everywhere and n orders (see the module docstring)."""
    from django.db import transaction
    from django.utils import timezone

    from orders.models import Order, OrderLine, Payment
    from privacy.consent import ledger as consent
    from privacy.models import ConsentRecord, Disclosure, MarketingSubscriber
    from privacy.protection.crypto import email_index
    from privacy.rights.subject_requests import request_open
    from shop.models import Address, BrowsingEvent, Cart, CartItem
    from tests.factories import UserFactory

    global _serial
    _serial += 1
    tag = f"{os.getpid()}x{_serial}"
    email = f"margaret.hamilton.{tag}@apollo.example"
    product = _product()
    now = timezone.now()
    with transaction.atomic():
        user = UserFactory(email=email, name="Margaret Hamilton", phone="+1 617 555 0199")
        for a in range(ADDRESSES):
            city, country, postcode, phone = PLACES[a % len(PLACES)]
            Address.objects.create(user=user, label=["Home", "Work", "Parents"][a % 3], name="Margaret Hamilton",
                                   line1=f"{a + 1} {STREETS[a % len(STREETS)]}", city=city, postal_code=postcode,
                                   country=country, phone=f"{phone}0199", is_default=a == 0)
        cart = Cart.objects.create(user=user)
        CartItem.objects.create(cart=cart, product=product, quantity=2)
        P = ConsentRecord.Purpose
        for purpose in P.values:
            consent.record(purpose=purpose, granted=True, channel="dashboard", user=user, consent_id=tag[:32])
        for purpose in (P.MARKETING_COOKIES, P.ANALYTICS):
            consent.record(purpose=purpose, granted=False, channel="settings", user=user, consent_id=tag[:32])
        BrowsingEvent.objects.bulk_create([BrowsingEvent(user=user, product=product, at=now - timedelta(minutes=i))
                                           for i in range(BROWSING_EVENTS)])
        MarketingSubscriber.objects.create(user=user, email=email, email_index=email_index(email),
                                           token=f"t{tag}"[:32], confirmed_at=now)
        request_open(kind="question", user=user, message="What do you keep about my lunar module orders?",
                     notify=False)
        for processor in ("email", "carrier"):
            Disclosure.objects.create(processor=processor, purpose="order_fulfilment", fields=["order.email"],
                                      country="US", safeguard="Standard contractual clauses", subject_user=user)

    index = email_index(email)
    step = timedelta(days=3 * 365) / n  # three years of orders, newest first
    for start in range(0, n, LOAD_BATCH):
        orders = []
        for i in range(start, min(n, start + LOAD_BATCH)):
            city, country, postcode, phone = PLACES[i % len(PLACES)]
            status = STATUSES[i % len(STATUSES)]
            created = now - step * i
            shipped = status in {"shipped", "delivered", "completed"}
            orders.append(Order(
                user=user, email=email, email_index=index, shipping_name="Margaret Hamilton",
                shipping_line1=f"{i % 250 + 1} {STREETS[i % len(STREETS)]}",
                shipping_line2="Flat 2" if i % 5 == 0 else "", shipping_city=city, shipping_postal_code=postcode,
                shipping_region="", shipping_country=country, phone=f"{phone}{i % 10000:04d}", status=status,
                subtotal=PRICE, total=PRICE, carrier="Royal Mail" if shipped else "",
                tracking_number=f"RM{i:09d}GB" if shipped else "", created_at=created,
                paid_at=created + timedelta(minutes=2) if shipped or status == "paid" else None,
                shipped_at=created + timedelta(days=1) if shipped else None,
                completed_at=created + timedelta(days=3) if status == "completed" else None))
        with transaction.atomic():
            Order.objects.bulk_create(orders, batch_size=LOAD_BATCH)
            if any(o.pk is None for o in orders):  # a database that returns no ids from bulk inserts
                ids = dict(Order.objects.filter(reference__in=[o.reference for o in orders])
                           .values_list("reference", "pk"))
                for o in orders:
                    o.pk = ids[o.reference]
            OrderLine.objects.bulk_create(
                [OrderLine(order_id=o.pk, product=product, product_name="Walnut Desk Lamp", unit_price=PRICE,
                           quantity=1, line_total=PRICE) for o in orders], batch_size=LOAD_BATCH)
            Payment.objects.bulk_create(
                [Payment(order_id=o.pk, gateway="stripe", intent_id=f"pi_{tag}_{start + j}", status="succeeded",
                         amount=PRICE, amount_received=PRICE, card_brand="visa", card_last4=f"{(start + j) % 10000:04d}",
                         created_at=o.created_at, updated_at=o.created_at)
                 for j, o in enumerate(orders) if (start + j) % PAYMENT_EVERY == 0], batch_size=LOAD_BATCH)
    return user


def complete_orders(user) -> None:
    from django.utils import timezone

    from orders.models import Order

    Order.objects.filter(user=user).update(status=Order.Status.COMPLETED, completed_at=timezone.now())


def check_erased(user_pk: int, email: str) -> list[str]:
    """What is left linked to the person after an erasure (empty: as expected)."""
    from orders.models import Order
    from privacy.protection.crypto import email_index
    from shop.models import User

    problems = []
    if User.objects.filter(pk=user_pk).exists():
        problems.append("the user row is still there")
    if Order.objects.filter(user_id=user_pk).exists() or Order.objects.filter(email_index=email_index(email)).exists():
        problems.append("orders still lead to the person")
    return problems


def clear_erased() -> None:
    """Untimed: removes the anonymised rows an erasure keeps, so every run sees the same tables."""
    from orders.models import Order, OrderLine, Payment

    Payment.objects.filter(order__user__isnull=True).delete()
    OrderLine.objects.filter(order__user__isnull=True).delete()
    Order.objects.filter(user__isnull=True).delete()


# --- measurements ---------------------------------------------------------------------------
def counted(fn):
    """Runs fn() timed, counting its SQL queries; returns (seconds, queries, result)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    gc.collect()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
    return elapsed, len(queries.captured_queries), result


def traced_peak(fn) -> tuple[float, object]:
    """tracemalloc peak (MiB) of one fn() run."""
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return peak, result


def export_job(user):
    """What the Celery task does (privacy.rights.export.export_build), without the file write."""
    from privacy.protection.crypto import KEY_RING
    from privacy.rights.export import export_archive, export_document

    doc = export_document(user=user)
    blob = KEY_RING.encrypt(export_archive(doc))
    return len(doc["models"]["orders.Order"]["records"]), len(blob)


def bench_export(user, n: int, repeat: int) -> dict:
    export_job(user)  # warm-up
    times, counts, size = [], [], 0
    for _ in range(repeat):
        seconds, queries, (records, size) = counted(lambda: export_job(user))
        assert records == n, f"the export holds {records} orders, not {n}"
        times.append(seconds)
        counts.append(queries)
    peak, _ = traced_peak(lambda: export_job(user))
    return {"seconds": statistics.median(times), "queries": counts, "peak": peak, "size": size}


def erase_once(user, n: int, *, trace: bool = False) -> tuple[float, int, float | None, dict]:
    from orders.models import Order, Payment
    from privacy.rights.erasure import erase_subject

    complete_orders(user)  # not timed
    user_pk, email = user.pk, user.email
    if trace:
        peak, report = traced_peak(lambda: erase_subject(user=user))
        seconds, queries = 0.0, 0
    else:
        peak = None
        seconds, queries, report = counted(lambda: erase_subject(user=user))
    problems = check_erased(user_pk, email)
    assert not problems, f"erasure left: {problems}"
    kept = Order.objects.filter(user__isnull=True, anonymised_at__isnull=False).count()
    assert kept == n, f"{kept} anonymised orders kept, not {n}"  # the tables hold no other erased orders
    # Payments keep their rows; their card brand and last four should be gone (module docstring of
    # privacy.rights.erasure). Not timed.
    cards = [bool(brand or last4) for brand, last4 in Payment.objects.filter(
        order__user__isnull=True, order__anonymised_at__isnull=False).values_list("card_brand", "card_last4")]
    clear_erased()  # not timed
    return seconds, queries, peak, {"report": report, "payments": len(cards), "cards_left": sum(cards)}


def bench_erasure(first_user, n: int, repeat: int) -> dict:
    times, counts, notes = [], [], {}
    for r in range(repeat):
        user = first_user if r == 0 else make_subject(n)  # not timed
        seconds, queries, _, notes = erase_once(user, n)
        times.append(seconds)
        counts.append(queries)
    _, _, peak, _ = erase_once(make_subject(n), n, trace=True)
    return {"seconds": statistics.median(times), "queries": counts, "peak": peak, **notes}


# --- output ---------------------------------------------------------------------------------
def print_table(rows: list[dict]) -> None:
    head = ("operation", "orders", "median s", "orders/s", "peak MiB", "queries", "archive bytes")
    body = []
    for r in rows:
        q = sorted(set(r["queries"]))
        body.append((r["operation"], f"{r['orders']:,}", f"{r['seconds']:.3f}",
                     f"{r['orders'] / r['seconds']:,.0f}" if r["seconds"] else "-", f"{r['peak']:.1f}",
                     "/".join(str(x) for x in q), f"{r['size']:,}" if r.get("size") else "-"))
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    align = ["<", ">", ">", ">", ">", ">", ">"]
    line = lambda row: "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths, strict=True)).rstrip()  # noqa: E731
    print(line(head))
    print("  ".join("-" * w for w in widths))
    for row in body:
        print(line(row))


# --- main -----------------------------------------------------------------------------------
def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    var_dir = Path(tempfile.mkdtemp(prefix="shop-bench-rights-"))
    external_db = configure_environment(var_dir)
    test_db_old_name = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        if external_db:
            # Never the database named in the URL: a separate, uniquely named throw-away database.
            connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_rights_{os.getpid()}"
            test_db_old_name = connection.settings_dict["NAME"]
            log(f"creating database {connection.settings_dict['TEST']['NAME']} on {connection.vendor} (migrate) ...")
            connection.creation.create_test_db(verbosity=0, autoclobber=False, serialize=False, keepdb=False)
        else:
            log(f"migrating a fresh SQLite database in {var_dir} ...")
            call_command("migrate", verbosity=0, interactive=False)
        call_command("migrate", database="keys", verbosity=0, interactive=False)  # per-person keys
        log(f"ready in {time.perf_counter() - started:.1f} s; warming up (a user with {WARMUP_ORDERS} orders) ...")
        warm = make_subject(WARMUP_ORDERS)
        export_job(warm)
        erase_once(warm, WARMUP_ORDERS)

        rows, findings = [], []
        for n in args.sizes:
            t = time.perf_counter()
            user = make_subject(n)
            log(f"{n:,} orders: user created in {time.perf_counter() - t:.1f} s; export x{args.repeat} ...")
            ex = bench_export(user, n, args.repeat)
            rows.append({"operation": "export (document + zip + encrypt)", "orders": n, **ex})
            log(f"{n:,} orders: erasure x{args.repeat} (+1 traced), a fresh user each ...")
            er = bench_erasure(user, n, args.repeat)
            rows.append({"operation": "erasure (erase_subject)", "orders": n, **er})
            if er["cards_left"]:
                findings.append((n, er["cards_left"], er["payments"], er["report"]))

        import cryptography

        vendor = connection.vendor
        version = connection.Database.sqlite_version if vendor == "sqlite" else \
            ".".join(str(x) for x in divmod(connection.pg_version, 10000)) if vendor == "postgresql" else ""
        print()
        print(f"Rights benchmark: {args.repeat} runs per operation and size (median), {vendor} {version}, "
              f"Python {platform.python_version()}, Django {django.get_version()}, "
              f"cryptography {cryptography.__version__}, {os.cpu_count()} CPUs, DEBUG off")
        print(f"Each user: N orders (9 encrypted fields each, 1 line each), {100 // PAYMENT_EVERY}% with a payment, "
              f"{ADDRESSES} addresses, 7 consent records, {BROWSING_EVENTS} browsing events, cart, "
              f"subscription, request, 2 disclosures")
        print()
        print_table(rows)
        print()
        for op in ("export", "erasure"):
            mine = [r for r in rows if r["operation"].startswith(op)]
            parts = ", ".join(f"{'/'.join(map(str, sorted(set(r['queries']))))} at {r['orders']:,}" for r in mine)
            flat = len({q for r in mine for q in r["queries"]}) == 1
            verdict = ("one size only" if len(mine) < 2 else "constant: does not grow with the orders" if flat
                       else "VARIES with the orders")
            print(f"SQL queries, {op}: {parts} -> {verdict}")
        for n, cards, payments, report in findings:
            print(f"NOTE ({n:,} orders): after erase_subject, {cards:,} of the {payments:,} payments still hold the "
                  f"card brand and last four; report.anonymised = {report.anonymised}")
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(f"Peak memory: {maxrss:.0f} MiB resident (ru_maxrss, whole run); 'peak MiB' above is the "
              f"Python heap (tracemalloc) of one extra, untimed run of the step")
        print(f"Total run {time.perf_counter() - started:.1f} s")
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
