"""Where an anonymous storefront page spends its time, in-process (cProfile, DEBUG off).

    .venv/bin/python tests/bench/storefront_profile.py [--products 1000] [--requests 200] [--top 0]
        [--signed-in] [--show-cache] [--sql] [--database-url postgres://127.0.0.1:PORT/db]

Builds a throw-away SQLite shop (or uses --database-url's database, loading the catalogue only if
it has no products, as storefront.py does) (1,000 products in 20 categories by default), warms each page,
then times it through Django's test client (no HTTP server) and profiles 100 more requests.
Add to cart is profiled as in storefront.py (a guest with a cart; --signed-in does not apply).
Prints, per page: ms per request, SQL queries, and the share of profiled time spent in the
middleware around the view, the view itself, template rendering, SQL, URL reversing and the
context processors. `--top N` also prints cProfile's N most expensive calls. Last, each page's
speed as a share of the bare view's (tests/bench/bench_urls.py), timed in alternating rounds so
that a busy machine's drift affects both alike.
Nothing here is part of the test suite.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

# (label, predicate over pstats' (file, line, function) key): cumulative time of the outermost match.
GROUPS = [
    ("whole request", lambda f, fn: f.endswith("django/core/handlers/base.py") and fn == "get_response"),
    ("view (all of it)", lambda f, fn: f.endswith("django/core/handlers/base.py") and fn == "_get_response"),
    ("template rendering", lambda f, fn: f.endswith("django/template/backends/django.py") and fn == "render"),
    ("SQL (lazy values too)", lambda f, fn: f.endswith("sql/compiler.py") and fn == "execute_sql"),
    ("URL reversing ({% url %})", lambda f, fn: f.endswith("django/urls/base.py") and fn == "reverse"),
    ("context processors", lambda f, fn: f.endswith("context_processors.py")),
    ("page cache", lambda f, fn: f.endswith("shop/pagecache.py")),
    ("allauth's session tracking", lambda f, fn: f.endswith("usersessions/middleware.py") and fn == "__call__"),
    ("SQL: all queries", lambda f, fn: f.endswith("django/db/backends/utils.py") and fn == "execute"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--signed-in", action="store_true", help="profile as a signed-in customer")
    parser.add_argument("--show-cache", action="store_true", help="print the X-Page-Cache header of each page")
    parser.add_argument("--sql", action="store_true", help="print each page's SQL queries")
    parser.add_argument("--database-url", default="", help="an existing database (say, storefront.py's PostgreSQL)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="shop-profile-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "SHOP_ENV": "local", "DEBUG": "0",
        "SHOP_VAR_DIR": str(tmp), "SHOP_MEDIA_ROOT": str(tmp / "media"), "SHOP_PRIVATE_ROOT": str(tmp / "private"),
        "SHOP_PAGE_SIZE": "20", "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://shop", "CELERY_BROKER_URL": "filesystem://", "PAYMENT_GATEWAY": "offline",
        "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING",
    })
    sys.path.insert(0, str(BASE_DIR))
    try:
        import django
        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client, override_settings
        from django.urls import clear_url_caches

        from shop.demo import load_catalogue
        from shop.models import Product, User

        call_command("migrate", verbosity=0)
        call_command("migrate", database="keys", verbosity=0)
        if not Product.objects.exists():
            load_catalogue(products=args.products, categories=20, images=False)
        slug = Product.objects.order_by("pk")[Product.objects.count() // 2].slug
        client = Client()
        if args.signed_in:
            client.force_login(User.objects.create_user(email=f"profile-{time.time_ns()}@example.com"))
        # Add to cart as in storefront.py: a guest whose session already holds a cart, POSTing one
        # unit of a product with enough stock, cycling through them; the answer is the redirect.
        guest = Client()
        stocked = itertools.cycle(Product.objects.filter(is_active=True, stock__gte=25).values_list("pk", flat=True))
        assert guest.post("/cart/add/", {"product": next(stocked), "quantity": 1}).status_code == 302

        def add_to_cart():
            return guest.post("/cart/add/", {"product": next(stocked), "quantity": 1})

        pages = [("home", "/"), ("product list", "/products/?page=3"), ("product page", f"/products/{slug}/"),
                 ("search", "/products/?q=lamp"), ("add to cart", add_to_cart)]

        def fetch(path):
            return path() if callable(path) else client.get(path)

        for name, path in pages:
            for _ in range(20):
                assert fetch(path).status_code in (200, 302)
            started = time.perf_counter()
            for _ in range(args.requests):
                fetch(path)
            ms = (time.perf_counter() - started) / args.requests * 1000
            queries: list[str] = []
            with connection.execute_wrapper(lambda execute, sql, *a: (queries.append(sql), execute(sql, *a))[1]):
                fetch(path)
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(100):
                fetch(path)
            profile.disable()
            stats = pstats.Stats(profile)
            totals = {}
            for label, match in GROUPS:
                hits = [v[3] for (f, _line, fn), v in stats.stats.items() if match(f, fn)]
                totals[label] = (max(hits, default=0.0) if label != "context processors" else sum(hits))
            whole = totals["whole request"] or 1
            label = "POST /cart/add/ (guest with a cart)" if callable(path) else path
            print(f"\n{name:<13} {label}: {ms:.2f} ms/request, {len(queries)} SQL queries")
            if args.sql:
                print("".join(f"    {sql[:160]}\n" for sql in queries), end="")
            if args.show_cache:
                print(f"  X-Page-Cache: {fetch(path).get('X-Page-Cache', '-')}")
            print(f"  middleware around the view  {1 - totals['view (all of it)'] / whole:>6.0%}")
            for label, _ in GROUPS[1:]:
                print(f"  {label:<28}{totals[label] / whole:>6.0%}")
            if args.top:
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(args.top)
                print(out.getvalue())
        # Shares of the bare view, in-process: rounds alternate the pages and the bare view
        # (tests/bench/bench_urls.py, same middleware) so a shared machine's load drifts out. The
        # anonymous bare view is storefront.py's ceiling; with --signed-in, a signed-in one too.
        bare = {"bare view": Client()}
        if args.signed_in:
            bare["bare, signed in"] = client
        timings = {name: 0.0 for name in [*(name for name, _ in pages), *bare]}
        for _ in range(5):
            for name, path in pages:
                started = time.perf_counter()
                for _ in range(args.requests // 5):
                    fetch(path)
                timings[name] += time.perf_counter() - started
            with override_settings(ROOT_URLCONF="tests.bench.bench_urls"):
                clear_url_caches()
                for name, bare_client in bare.items():
                    started = time.perf_counter()
                    for _ in range(args.requests // 5):
                        bare_client.get("/__bench_ceiling__")
                    timings[name] += time.perf_counter() - started
            clear_url_caches()
        print(f"\nin-process, {args.requests} requests each, alternating in 5 rounds "
              f"(shares of the anonymous bare view, storefront.py's ceiling):")
        for name, seconds in timings.items():
            print(f"  {name:<16}{seconds / args.requests * 1000:>7.2f} ms/request  "
                  f"{timings['bare view'] / seconds:>6.0%} of the bare view")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
