"""Product search benchmark on PostgreSQL: full-text search (shop 0006) at 1,000 and N products.

    DATABASE_URL=postgres://USER@127.0.0.1:PORT/postgres \\
        .venv/bin/python tests/bench/search.py [--products 100000] [--searches 300]

A separate database `bench_search_<pid>` is created on the server (Django's test-database
creation, which runs `migrate`) and dropped at the end; the database in the URL is not touched.
Products get 3-word names and 12-word descriptions from a 600-word vocabulary (bulk_create, so
the trigger fills the search vector as in production), then VACUUM ANALYZE.

Measured in-process, at 1,000 products and again after growing the table to N:
  search      selectors.product_list(query=...) + the first page and its count, nothing cached:
              p50 / p95 over --searches queries of 1-2 words, the last typed as a prefix
  list page   GET /products/?page=3 through Django's test client (full middleware and template),
              signed in; "cold": the cache emptied before each request (every query runs),
              "in": as a signed-in customer meets it (fragments and the count kept under the
              catalogue stamp), "anon": an anonymous visitor (the page cache)
  search page GET /products/?q=<two words>, the same three ways
Printed: the figures at both sizes and the ratio N / 1,000 for each (a page that scales keeps
that ratio near 1; a sequential scan grows it ~100x). Target: search p50 <= 20 ms at 100,000.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))

from tests.bench.purge import configure_environment  # noqa: E402  (same throw-away environment)

WORDS = [f"{a}{b}" for a in ("bra", "cop", "lin", "oak", "sil", "wool", "ste", "gla", "cer", "tea",
                             "lam", "mug", "vas", "cha", "rug", "pot", "kni", "bow", "jar", "box")
         for b in ("ss", "per", "en", "wood", "ver", "len", "el", "ze", "amic", "pot",
                   "p", "gs", "e", "ir", "gby", "tery", "fe", "ls", "dle", "ing",
                   "ton", "ard", "mer", "ley", "tor", "ette", "ful", "ock", "ine", "ow")]


def log(message: str) -> None:
    print(f"[search] {message}", file=sys.stderr, flush=True)


def grow(target: int, category, rng: random.Random) -> None:
    from shop.models import Product

    have = Product.objects.count()
    batch = []
    for i in range(have, target):
        name = " ".join(rng.choice(WORDS) for _ in range(3)).title()
        batch.append(Product(category=category, name=f"{name} {i}", slug=f"p-{i}", price=10 + i % 90, stock=5,
                             description=" ".join(rng.choice(WORDS) for _ in range(12))))
        if len(batch) == 5000:
            Product.objects.bulk_create(batch)
            batch = []
    if batch:
        Product.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE shop_product")


def measure(rng: random.Random, searches: int) -> dict[str, float]:
    from django.conf import settings
    from django.core.paginator import Paginator
    from django.test import Client

    from shop import selectors

    timings = []
    for _ in range(searches):
        words = [rng.choice(WORDS) for _ in range(rng.choice((1, 2)))]
        words[-1] = words[-1][: rng.randint(3, len(words[-1]))]  # typing: a prefix
        started = time.perf_counter()
        page = Paginator(selectors.product_list(query=" ".join(words)), settings.SHOP_PAGE_SIZE).get_page(1)
        list(page.object_list)
        timings.append((time.perf_counter() - started) * 1000)
    from django.core.cache import cache

    from shop.models import User

    anonymous, customer = Client(), Client()
    customer.force_login(User.objects.get_or_create(email="bench-search@example.test")[0])

    def page_ms(client: Client, params: dict, *, cold: bool = False) -> float:
        runs = []
        for _ in range(15):
            if cold:
                cache.clear()  # no page, fragment or count kept: every query of the page runs
            started = time.perf_counter()
            response = client.get("/products/", params)
            runs.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        return statistics.median(runs)

    figures = {"search p50": statistics.median(timings), "search p95": statistics.quantiles(timings, n=20)[18]}
    for name, params in (("list page", {"page": 3}), ("search page", {"q": f"{WORDS[0]} {WORDS[31][:4]}"})):
        figures[f"{name} cold"] = page_ms(customer, params, cold=True)
        figures[f"{name} in"] = page_ms(customer, params)
        figures[f"{name} anon"] = page_ms(anonymous, params)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=300)
    args = parser.parse_args()
    configure_environment(Path(tempfile.mkdtemp(prefix="shop-bench-search-")))
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("tests/bench/search.py runs on PostgreSQL only")
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_search_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=False, serialize=False, keepdb=False)
    from django.core.management import call_command

    call_command("migrate", database="keys", verbosity=0, interactive=False)  # per-person keys
    try:
        from shop.models import Category

        rng = random.Random(14)
        category = Category.objects.create(name="Bench", slug="bench")
        results = {}
        for size in (1000, args.products):
            started = time.perf_counter()
            grow(size, category, rng)
            log(f"{size:,} products ready ({time.perf_counter() - started:.1f} s); measuring ...")
            measure(rng, 20)  # warm-up
            results[size] = measure(rng, args.searches)
        small, big = results[1000], results[args.products]
        print(f"{'figure':<18}{'1,000':>12}{f'{args.products:,}':>12}{'ratio':>8}")
        for key in small:
            print(f"{key:<18}{small[key]:>10.2f}ms{big[key]:>10.2f}ms{big[key] / small[key]:>8.2f}")
        ok = big["search p50"] <= 20
        print(f"search p50 at {args.products:,}: {big['search p50']:.2f} ms (target <= 20 ms): "
              f"{'OK' if ok else 'OVER'}")
        return 0 if ok else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
