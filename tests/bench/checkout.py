"""Checkout throughput: complete guest checkouts (add to cart → checkout page → place the order →
pay with the offline gateway → confirmation) through Django's full request stack in-process.

    .venv/bin/python tests/bench/checkout.py [--checkouts 300] [--threads 1]

A throw-away shop in a temporary folder (SQLite, DEBUG off, fresh keys) unless DATABASE_URL
names a PostgreSQL server, in which case a database `bench_checkout_<pid>` is created there and
dropped at the end. Prints checkouts per second and the p50/p99 time of one whole checkout
(5 requests, order emails queued in the outbox). Figures only; no assertions on speed.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def setup(tmp: Path) -> callable:
    os.environ.update(SHOP_ENV="local", DEBUG="0", SHOP_VAR_DIR=str(tmp), CELERY_TASK_ALWAYS_EAGER="0",
                      CELERY_BROKER_URL="memory://", PAYMENT_GATEWAY="offline", EMAIL_URL="dummymail://")
    os.environ.pop("CACHE_URL", None)
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    teardown = lambda: None  # noqa: E731
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        from django.conf import settings

        settings.DATABASES["default"]["TEST"] = {"NAME": f"bench_checkout_{os.getpid()}"}
        old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        teardown = lambda: connection.creation.destroy_test_db(old, verbosity=0)  # noqa: E731
    else:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    from django.core.management import call_command

    call_command("migrate", database="keys", verbosity=0)  # the key store: per-person keys as in the shop
    return teardown


def checkout(client, product) -> float:
    started = time.perf_counter()
    client.post("/cart/add/", {"product": product.pk, "quantity": 1})
    page = client.get("/checkout/").content.decode()
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', page).group(1)
    response = client.post("/checkout/", {
        "email": "bench@example.com", "name": "Bench Shopper", "line1": "1 Load Street", "city": "Berlin",
        "postal_code": "10115", "country": "DE", "fingerprint": fingerprint})
    reference = response["Location"].split("/")[2]
    client.post(f"/orders/{reference}/pay/offline/")
    assert client.get(f"/orders/{reference}/thanks/").status_code == 200
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkouts", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    args.checkouts, args.threads = min(max(args.checkouts, 10), 20_000), min(max(args.threads, 1), 16)
    tmp = Path(tempfile.mkdtemp(prefix="bench-checkout-"))
    try:
        teardown = setup(tmp)
        from django.db import connection
        from django.test import Client

        from orders.models import Order
        from shop.demo import load_catalogue
        from shop.models import Product

        load_catalogue(products=200, categories=10, images=False)
        Product.objects.update(stock=1_000_000)
        products = list(Product.objects.all()[:50])
        for _ in range(5):  # warm-up
            checkout(Client(), products[0])
        timings: list[float] = []
        lock = threading.Lock()
        per_thread = args.checkouts // args.threads

        def worker(n: int) -> None:
            client = Client()
            for i in range(per_thread):
                seconds = checkout(client, products[(n * per_thread + i) % len(products)])
                with lock:
                    timings.append(seconds)
            connection.close()

        before = Order.objects.filter(status="paid").count()
        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=3600)
        elapsed = time.perf_counter() - started
        paid = Order.objects.filter(status="paid").count() - before
        timings.sort()
        print(f"\nCheckout throughput ({connection.vendor}, {args.threads} thread(s), DEBUG off, in-process requests)")
        print(f"{'checkouts':>10}{'seconds':>10}{'per second':>12}{'p50 ms':>10}{'p99 ms':>10}")
        print(f"{paid:>10}{elapsed:>10.2f}{paid / elapsed:>12.1f}{statistics.median(timings) * 1000:>10.1f}"
              f"{timings[int(len(timings) * 0.99) - 1] * 1000:>10.1f}")
        assert paid == len(timings), "every timed checkout must end paid"
        teardown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
