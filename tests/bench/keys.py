"""Per-person keys benchmark: what sealing personal fields under each person's own data key costs,
against the single shop-wide key, and what a master-key rotation costs with it.

    .venv/bin/python tests/bench/keys.py [--repeat 7] [--people 10000] [--values-per-person 10]
    .venv/bin/python tests/bench/keys.py --scale     (rotation only: 100,000 people, 1,000,000 values)

A throw-away shop in a temporary folder (SHOP_ENV=local, DEBUG off, fresh keys, fresh SQLite files
for the shop and the key store, migrated). Measured in the same run, medians of --repeat:

    admin order list          /staff/orders/order/ (100 rows: 100 guests, 100 data keys) through the
                              test Client as an MFA superuser; per-person keys (key cache warm, and
                              cold: every key read from the key store) vs the same page over 100
                              orders under the shop-wide key.  ratio = per-person / shop-wide
    checkout                  place an order as a new guest each time (cart, checkout page, order,
                              offline payment: a new data key is created and wrapped per order) vs
                              the same under the shop-wide key.  ratio = per-person / shop-wide
    master-key rotation       re-wrapping --people data keys (keystore.rewrap_all) vs re-encrypting
                              every value under the shop-wide key (privacy.keys.rotation.rotate over
                              orders, 9 encrypted values each), both measured, then both scaled
                              linearly to 100,000 people / 1,000,000 values (the issue's figure;
                              linear because each is one pass over its rows in fixed-size batches).
    sign-in email             the upgrade at --people accounts: the migrations seal every address in
                              clear under the shop-wide key, then the key sweep moves each under its
                              person's key (a new data key each): seconds; then finding an account
                              by its address (blind-index head) vs by its id.  ratio = address / id
    --scale                   the same rotation built at the issue's size for real (bulk inserts):
                              100,000 data keys re-wrapped in full, against re-encrypting a stated
                              sample of shop-wide values (100,000) scaled to 1,000,000; then
                              rotate_encryption_key end to end over all of it.

Figures only, no assertions on speed; not collected by pytest. Talks to no network.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PAGE = 100


def setup(tmp: Path) -> None:
    os.environ.update(SHOP_ENV="local", DEBUG="0", SHOP_VAR_DIR=str(tmp), CELERY_TASK_ALWAYS_EAGER="1",
                      CELERY_BROKER_URL="memory://", PAYMENT_GATEWAY="offline", EMAIL_URL="dummymail://")
    for name in ("CACHE_URL", "DATABASE_URL", "KEYSTORE_DATABASE_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("migrate", database="keys", verbosity=0)


class shop_wide_key:
    """Within this block personal fields are written under the shop-wide key (today's behaviour);
    reading still recognises both formats (one prefix check per value), so rows of either open."""

    def __enter__(self):
        from django.apps import apps

        from privacy.protection.crypto import encrypted_fields
        from privacy.protection.sealing import PERSON_KEY_MODELS

        self.saved = []
        for label in PERSON_KEY_MODELS:
            for field in encrypted_fields(apps.get_model(label)):
                self.saved.append((field, field.__dict__.pop("pre_save"), field.__dict__.pop("_dump")))
        return self

    def __exit__(self, *exc):
        for field, pre_save, dump in self.saved:
            field.pre_save, field._dump = pre_save, dump


def median_ms(fn, repeat: int, before=None) -> float:
    runs = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def checkout(client, product, n: int) -> None:
    client.post("/cart/add/", {"product": product.pk, "quantity": 1})
    page = client.get("/checkout/").content.decode()
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', page).group(1)
    response = client.post("/checkout/", {
        "email": f"bench{n}-{time.monotonic_ns()}@example.com", "name": "Bench Shopper", "line1": "1 Load Street",
        "city": "Berlin", "postal_code": "10115", "country": "DE", "fingerprint": fingerprint})
    assert response.status_code == 302, response.status_code
    client.post(f"/orders/{response['Location'].split('/')[2]}/pay/offline/")


def bench_pages(repeat: int) -> None:
    from django.test import Client

    from orders.models import Order
    from privacy.protection.keystore import forget_cache
    from shop.models import Product
    from tests.factories import OrderFactory, ProductFactory, staff_user

    for i in range(PAGE):
        OrderFactory(email=f"person{i}@example.com", shipping_name=f"Person {i}", status="paid")
    with shop_wide_key():
        for i in range(PAGE):
            OrderFactory(email=f"single{i}@example.com", shipping_name=f"Single {i}", status="shipped")
    admin = Client()
    admin.force_login(staff_user(is_superuser=True))
    url = "/staff/orders/order/"

    def page(status: str):
        def get():
            response = admin.get(url, {"status__exact": status})
            assert response.status_code == 200 and len(response.context_data["cl"].result_list) == PAGE
        return get

    page("paid")()  # warm-up
    per_person = median_ms(page("paid"), repeat)
    cold = median_ms(page("paid"), repeat, before=forget_cache)
    with shop_wide_key():
        page("shipped")()
        single = median_ms(page("shipped"), repeat)
    print(f"\nAdmin order list, {PAGE} rows (median of {repeat})")
    print(f"  shop-wide key            {single:8.1f} ms")
    print(f"  per-person keys, warm    {per_person:8.1f} ms   ratio {per_person / single:.2f}x")
    print(f"  per-person keys, cold    {cold:8.1f} ms   ratio {cold / single:.2f}x  (every key read from the key store)")

    product = ProductFactory(name="Bench Lamp", price="10.00", stock=1_000_000)
    Product.objects.filter(pk=product.pk).update(stock=1_000_000)
    client, n = Client(), iter(range(10**9))
    checkout(client, product, next(n))  # warm-up
    from django.core.cache import (
        cache,  # the rate limits count in the cache: one shopper, many orders
    )

    per_person = median_ms(lambda: checkout(client, product, next(n)), repeat * 3, before=cache.clear)
    with shop_wide_key():
        checkout(client, product, next(n))
        single = median_ms(lambda: checkout(client, product, next(n)), repeat * 3, before=cache.clear)
    print(f"\nCheckout as a new guest (4 requests; median of {repeat * 3})")
    print(f"  shop-wide key            {single:8.1f} ms")
    print(f"  per-person keys          {per_person:8.1f} ms   ratio {per_person / single:.2f}x  (a new data key each)")
    assert Order.objects.count() > 2 * PAGE


def bench_signin(people: int, repeat: int) -> None:
    """The sealed sign-in email (privacy.protection.signin) at `people` accounts, each with its
    allauth EmailAddress row: the upgrade (the migrations' sealing under the shop-wide key, then
    the key sweep's move under each person's key, a new data key per person), and finding an
    account by its address against finding it by its id, in the same run."""
    from allauth.account.models import EmailAddress
    from django.db import connection

    from privacy.keys.sweep import SweepReport, signin_reseal
    from privacy.protection import signin
    from shop.models import User

    with shop_wide_key():
        users = User.objects.bulk_create([User(email=signin.compose(f"signin{i}@example.com", None), password="!")
                                          for i in range(people)], batch_size=2000)
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=signin.compose(f"signin{i}@example.com", None),
                                                   verified=True, primary=True) for i, u in enumerate(users)],
                                     batch_size=2000)
    for table in ("shop_user", "account_emailaddress"):  # as the rows stood before the upgrade
        signin.open_column(connection, table)
    started = time.perf_counter()
    sealed = sum(signin.seal_column(connection, table) for table in ("shop_user", "account_emailaddress"))
    migration = time.perf_counter() - started
    report = SweepReport()
    started = time.perf_counter()
    signin_reseal(batch_size=500, report=report)
    sweep = time.perf_counter() - started
    moved = sum(report.resealed.values())
    print(f"\nSign-in email sealed, {people:,} accounts ({sealed:,} addresses in clear before the upgrade)")
    print(f"  migrations (shop-wide key)      {migration:8.2f} s")
    print(f"  key sweep (a key per person)    {sweep:8.2f} s   {moved:,} addresses moved")
    picks = [f"signin{i}@example.com" for i in range(0, people, max(people // 50, 1))]
    ids = list(User.objects.filter(email__in=picks).values_list("pk", flat=True))
    assert len(ids) == len(picks), (len(ids), len(picks))

    def by(lookup, values):
        def run():
            for value in values:
                User.objects.filter(**{lookup: value}).values_list("pk", flat=True).first()
        return run

    by_id = median_ms(by("pk", ids), repeat) / len(ids)
    by_address = median_ms(by("email", picks), repeat) / len(picks)
    print(f"  find an account by id           {by_id * 1000:8.0f} us")
    print(f"  find it by its address          {by_address * 1000:8.0f} us   ratio {by_address / by_id:.2f}x")


def bench_rotation(people: int, values_per_person: int) -> None:
    from django.conf import settings

    from privacy.keys.rotation import rotate
    from privacy.models import DataKey, KeyRotationProgress
    from privacy.protection import keystore
    from tests.factories import OrderFactory

    rows = []
    for i in range(people):
        key_id = f"bench{i:012d}"
        wrapped, kek = keystore._wrap(os.urandom(32), key_id)
        rows.append(DataKey(subject=f"guest:bench{i}", key_id=key_id, wrapped=wrapped, kek=kek))
    DataKey.objects.bulk_create(rows, batch_size=1000)
    values = min(people * values_per_person, 20_000)  # the re-encryption baseline is measured on a sample
    orders = values // 9
    with shop_wide_key():
        for i in range(orders):
            OrderFactory(email=f"rot{i}@example.com", shipping_name=f"Rotating {i}")
    old = settings.CRYPTOGRAPHY_KEY
    settings.CRYPTOGRAPHY_KEY, settings.CRYPTOGRAPHY_OLD_KEYS = "bench-new-master-key-" + "n" * 30, [old]

    started = time.perf_counter()
    rewrapped, _ = keystore.rewrap_all(batch_size=1000)
    rewrap_s = time.perf_counter() - started
    assert rewrapped == DataKey.objects.count()
    KeyRotationProgress.objects.all().delete()
    with shop_wide_key():
        started = time.perf_counter()
        reports = rotate(batch_size=1000)
        reencrypt_s = time.perf_counter() - started
    rows_done = sum(r.rows for r in reports if r.model_label == "orders.Order")
    measured_values = rows_done * 9
    print("\nMaster-key rotation (SQLite, one process)")
    print(f"  re-wrap {rewrapped:,} data keys             {rewrap_s:8.2f} s")
    print(f"  re-encrypt {measured_values:,} values (shop-wide)  {reencrypt_s:8.2f} s")
    per_key, per_value = rewrap_s / rewrapped, reencrypt_s / measured_values
    print(f"  scaled: 100,000 people re-wrapped     {per_key * 100_000:8.1f} s")
    print(f"  scaled: 1,000,000 values re-encrypted {per_value * 1_000_000:8.1f} s   "
          f"ratio {per_value * 1_000_000 / (per_key * 100_000):.1f}x slower than re-wrapping")


def bench_rotation_at_scale(people: int, values: int, sample: int) -> None:
    """The issue's figure, built for real: `people` data keys and `values` values sealed under
    them (orders, 9 encrypted values each, bulk-inserted), plus `sample` values under the
    shop-wide key. Re-wrapping every data key is measured in full; re-encrypting every value under
    the shop-wide key (today's rotation) is measured on the `sample` and scaled linearly."""
    from decimal import Decimal

    from django.conf import settings

    from orders.models import Order
    from privacy.keys.rotation import rotate
    from privacy.models import DataKey, KeyRotationProgress
    from privacy.protection import keystore, sealing
    from privacy.protection.crypto import encrypted_fields

    names = [f.name for f in encrypted_fields(Order)]
    fill = {"email": "person@example.com", "shipping_name": "Scale Person", "shipping_line1": "1 Load Street",
            "shipping_line2": "Flat 2", "shipping_city": "Berlin", "shipping_postal_code": "10115",
            "shipping_region": "Berlin", "shipping_country": "DE", "phone": "+49 30 1234567"}
    assert set(fill) == set(names), names
    money = {"subtotal": Decimal("19.99"), "total": Decimal("19.99"), "status": Order.Status.DELIVERED}

    started = time.perf_counter()
    keys = []
    for start in range(0, people, 5000):
        rows = []
        for i in range(start, min(start + 5000, people)):
            key_id, key = f"scale{i:011d}", os.urandom(32)
            wrapped, kek = keystore._wrap(key, key_id)
            rows.append(DataKey(subject=f"guest:scale{i}", key_id=key_id, wrapped=wrapped, kek=kek))
            keys.append((key_id, key, f"scale{i}"))
        DataKey.objects.bulk_create(rows, batch_size=1000)
    orders, per_order = -(-values // len(names)), len(names)
    for start in range(0, orders, 5000):
        batch = []
        for n in range(start, min(start + 5000, orders)):
            key_id, key, index = keys[n % people]
            # Sealed as checkout seals them; handed to bulk_create as stored bytes (a placeholder
            # carrying its ciphertext is written back unchanged), so no key store read per value.
            batch.append(Order(email_index=index, **money, **{
                name: sealing.Unreadable.of("", sealing.seal(fill[name], key_id=key_id, key=key)) for name in names}))
        Order.objects.bulk_create(batch, batch_size=1000)
    with shop_wide_key():
        sample_orders = -(-sample // per_order)
        for start in range(0, sample_orders, 5000):
            Order.objects.bulk_create([Order(email_index=f"wide{n}", **money, **fill)
                                       for n in range(start, min(start + 5000, sample_orders))], batch_size=1000)
    built_s = time.perf_counter() - started
    sealed_values, wide_values = orders * per_order, sample_orders * per_order
    print(f"\nMaster-key rotation at scale (SQLite, one process; data built in {built_s:.0f} s by bulk inserts)")
    print(f"  {people:,} data keys, {sealed_values:,} values sealed under them, "
          f"{wide_values:,} values under the shop-wide key")

    old = settings.CRYPTOGRAPHY_KEY
    settings.CRYPTOGRAPHY_KEY, settings.CRYPTOGRAPHY_OLD_KEYS = "bench-scale-master-key-" + "s" * 30, [old]
    keystore.forget_cache()
    started = time.perf_counter()
    rewrapped, _ = keystore.rewrap_all(batch_size=1000)
    rewrap_s = time.perf_counter() - started
    assert rewrapped == people

    # Today's rotation: every value re-encrypted (rotate()'s own loop: read a batch, bulk_update it).
    wide = Order.objects.filter(email_index__startswith="wide")
    with shop_wide_key():
        started = time.perf_counter()
        last = 0
        while rows := list(wide.filter(pk__gt=last).order_by("pk").only("pk", *names)[:1000]):
            Order.objects.bulk_update(rows, names)
            last = rows[-1].pk
        reencrypt_s = time.perf_counter() - started
    per_value = reencrypt_s / wide_values

    # rotate_encryption_key end to end on this database, after one more master-key change: all the
    # keys re-wrapped again, the shop-wide sample re-encrypted, the sealed values skipped.
    settings.CRYPTOGRAPHY_KEY, settings.CRYPTOGRAPHY_OLD_KEYS = "bench-scale-master-key-" + "t" * 30, [
        settings.CRYPTOGRAPHY_KEY, old]
    KeyRotationProgress.objects.all().delete()
    keystore.forget_cache()
    with shop_wide_key():
        started = time.perf_counter()
        reports = rotate(batch_size=1000)
        rotate_s = time.perf_counter() - started
    by_label = {r.model_label: r.rows for r in reports}
    print(f"  re-wrap {people:,} data keys (measured, all)              {rewrap_s:8.2f} s")
    print(f"  re-encrypt {wide_values:,} shop-wide values (measured)       {reencrypt_s:8.2f} s")
    if wide_values < 1_000_000:
        print(f"  re-encrypt 1,000,000 values (EXTRAPOLATED linearly from the {wide_values:,} measured) "
              f"{per_value * 1_000_000:8.1f} s")
    print(f"  ratio: re-encrypting 1,000,000 values / re-wrapping {people:,} keys = "
          f"{per_value * 1_000_000 / rewrap_s:.1f}x")
    print(f"  rotate_encryption_key end to end (re-wrap {by_label.get('data keys (re-wrapped)', 0):,} keys, "
          f"re-encrypt {by_label.get('orders.Order', 0):,} shop-wide orders, skip {sealed_values:,} sealed values) "
          f"{rotate_s:8.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--values-per-person", type=int, default=10)
    parser.add_argument("--scale", action="store_true",
                        help="only the rotation at scale: 100,000 people, 1,000,000 sealed values, and a "
                             "100,000-value shop-wide sample (override with --people/--values/--sample)")
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=100_000)
    args = parser.parse_args()
    args.repeat = min(max(args.repeat, 1), 50)
    args.people = min(max(args.people, 100), 200_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-keys-"))
    try:
        setup(tmp)
        if args.scale:
            people = args.people if args.people != 10_000 else 100_000
            bench_rotation_at_scale(people, min(max(args.values, 1000), 2_000_000),
                                    min(max(args.sample, 1000), 1_000_000))
            return 0
        bench_pages(args.repeat)
        bench_signin(args.people, args.repeat)
        bench_rotation(args.people, args.values_per_person)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
