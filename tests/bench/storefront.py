"""Storefront benchmark: gunicorn + wrk against a throw-away shop on 127.0.0.1.

    .venv/bin/python tests/bench/storefront.py [--seconds 10] [--connections 4] [--threads 2]
        [--products 1000] [--categories 20] [--oscar] [--before PATH]
    DATABASE_URL=postgres://127.0.0.1:PORT/db .venv/bin/python tests/bench/storefront.py --products 100000

Builds a fresh SQLite database in a temporary folder (or uses DATABASE_URL's PostgreSQL database,
loading the catalogue only if it has no products), with N products in 20 categories, no images,
page size 20; starts `gunicorn config.wsgi -w 2` and measures with `wrk --latency`:

    home                      GET  /                                 anonymous
    product list              GET  /products/?page=3                 anonymous
    product page              GET  /products/<slug>/                 anonymous
    search                    GET  /products/?q=<word>               anonymous
    product list (signed in)  GET  /products/?page=3                 a customer's session cookie
    product page (signed in)  GET  /products/<slug>/                 a customer's session cookie
    add to cart               POST /cart/add/                        (CSRF cookie + X-CSRFToken header)
    ceiling                   GET  /__bench_ceiling__                (plain HttpResponse, same middleware)

Anonymous requests carry no cookie (a first visit); every page is first fetched a few times, so
the anonymous figures are those of warm page-cache hits (shop.pagecache).

Each figure is printed as a share of the ceiling measured in the same run, next to issue 15's
target, with p99/p50 (target: at most 3). --oscar uses the data shape of the django-oscar 4.2
comparison (1,000 products in 20 categories, 20 per page) and prints Oscar's figures from the
issue beside ours. --before PATH also measures another checkout of the shop (say, main before
the page cache) on its own SQLite copy of the same catalogue, in the same run, for a
before/after table.

Add to cart: each wrk thread reuses one guest session (its cookie comes from a real first
add), so no new cart or session is made per request; the requests cycle through the products
with at least 25 in stock, so each adds one unit to a cart line (an INSERT the first time
round, then UPDATEs) without reaching a line's stock limit. After the run the carts are
counted: every answered request must have added one unit, else the run fails.

The ceiling runs on a second gunicorn (tests/bench/ceiling_wsgi.py) started after the first
is stopped, so the shop's own URLs and WSGI module are measured unchanged.
Nothing here is part of the test suite (pytest collects only test_*.py).
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # the only host this script ever talks to


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: installing Debian's wrk package ...")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, timeout=600)
    subprocess.run([*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "wrk"],
                   check=True, timeout=600, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed (apt-get install wrk)")
    return found


def bench_env(var_dir: Path, tree: Path = BASE_DIR, database_url: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.pop("SHOP_BENCH_CEILING", None)
    # Explicit values (a .env file never overrides variables that are set): a self-contained
    # shop with no external database, cache, broker or payment provider.
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "SHOP_ENV": "local", "DEBUG": "0",
        "SHOP_VAR_DIR": str(var_dir), "SHOP_MEDIA_ROOT": str(var_dir / "media"),
        "SHOP_PRIVATE_ROOT": str(var_dir / "private"), "SHOP_PAGE_SIZE": "20",
        "DATABASE_URL": database_url or f"sqlite:///{var_dir / 'db.sqlite3'}", "CACHE_URL": "locmemcache://shop",
        "CELERY_BROKER_URL": "filesystem://", "PAYMENT_GATEWAY": "offline", "STRIPE_SECRET_KEY": "",
        "ALLOWED_HOSTS": f"{HOST},localhost", "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 1800) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=env["PYTHONPATH"], env=env, text=True,
                            capture_output=True, timeout=timeout)
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args[:1])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


SETUP_CODE = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from shop.demo import load_catalogue
from shop.models import Product, User
created = load_catalogue(products=%(products)d, categories=%(categories)d, images=False)
stocked = Product.objects.filter(is_active=True, stock__gte=25).order_by("pk")
in_stock = list(stocked.values_list("pk", flat=True)[:2000])
capacity = sum(min(stock, 99) for stock in stocked.values_list("stock", flat=True)[:2000])  # units per cart
page = stocked[len(in_stock) // 2]
word = [w for w in page.name.split() if w.isalpha() and len(w) > 3][-1].lower()
customer, _ = User.objects.get_or_create(email="bench-customer@example.com")
session = SessionStore()
session[SESSION_KEY] = str(customer.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = customer.get_session_auth_hash()
session.create()
print("BENCH" + json.dumps({"created": created, "total": Product.objects.count(), "in_stock": in_stock,
                            "capacity": capacity, "slug": page.slug, "product": page.pk, "word": word,
                            "customer_session": session.session_key}))
"""

CART_CODE = """
import json
from django.contrib.sessions.models import Session
from shop.models import CartItem
ids = [Session.objects.get(session_key=key).get_decoded().get("cart_id") for key in %r]
items = CartItem.objects.filter(cart_id__in=ids)
print("BENCH" + json.dumps({"units": sum(i.quantity for i in items), "lines": items.count(), "carts": ids}))
"""


def manage_json(env: dict[str, str], code: str) -> dict:
    out = manage(env, "shell", "-c", code)
    line = next(line for line in out.splitlines() if line.startswith("BENCH"))
    return json.loads(line[len("BENCH"):])


class Server:
    """One gunicorn master started by this script, stopped by its own process id."""

    def __init__(self, module: str, env: dict[str, str], workers: int, log_path: Path):
        tree = env["PYTHONPATH"]
        self.port = free_port()
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), module, "-w", str(workers), "-b", f"{HOST}:{self.port}",
             "--log-level", "warning", "--timeout", "60"],
            cwd=tree, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
        )
        self.base = f"http://{HOST}:{self.port}"

    def wait_ready(self, path: str = "/", limit: float = 60) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn did not answer {path} within {limit:.0f}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:  # only the master this object started; it stops its workers
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log_file.close()


def get(url: str, opener=None, expect: int = 200) -> str:
    with (opener or urllib.request.build_opener()).open(url, timeout=10) as response:
        if response.status != expect:
            sys.exit(f"GET {url} answered {response.status}, expected {expect}")
        return response.read().decode()


def guest_session(base: str, slug: str, product_id: int) -> dict[str, str]:
    """A real guest: reads a product page (CSRF cookie + token), adds to cart (session + cart)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = get(f"{base}/products/{slug}/", opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    cookies = {c.name: c.value for c in jar}
    if token is None or "csrftoken" not in cookies:
        sys.exit("could not obtain a CSRF cookie and token from the product page")
    body = urllib.parse.urlencode({"product": product_id, "quantity": 1}).encode()
    request = urllib.request.Request(f"{base}/cart/add/", data=body, headers={"X-CSRFToken": token.group(1)})
    with opener.open(request, timeout=10) as response:  # follows the redirect to /cart/
        if response.status != 200 or not response.url.endswith("/cart/"):
            sys.exit(f"the first add to cart failed: {response.status} {response.url}")
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        sys.exit("adding to the cart did not start a session")
    return {"csrftoken": cookies["csrftoken"], "token": token.group(1), "sessionid": cookies["sessionid"]}


ADD_LUA = """
-- POST /cart/add/: one guest session per wrk thread, products cycled (those with >= 25 in stock).
local sessions = {%(sessions)s}
local products = {%(products)s}
local counter = 0
local n = 0

function setup(thread)
  n = n + 1
  thread:set("slot", ((n - 1) %% #sessions) + 1)
end

function init(args)
  local s = sessions[slot]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "csrftoken=" .. s[1] .. "; sessionid=" .. s[2]
  wrk.headers["X-CSRFToken"] = s[3]
  counter = slot * 7919
end

function request()
  counter = counter + 1
  local product = products[(counter %% #products) + 1]
  return wrk.format(nil, "/cart/add/", nil, "product=" .. product .. "&quantity=1")
end
"""

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()
    return float(value) * UNITS[unit]


def parse_wrk(output: str) -> dict:
    def find(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            sys.exit(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return match

    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        "p50": to_ms(find(r"^\s+50%\s+(\S+)").group(1)),
        "p99": to_ms(find(r"^\s+99%\s+(\S+)").group(1)),
        "requests": int(find(r"^\s+(\d+) requests in").group(1)),
        "non_ok": int(non_ok.group(1)) if non_ok else 0,
        # read errors are gunicorn's sync workers closing each connection: not failures.
        "timeouts": int(socket_errors.group(4)) if socket_errors else 0,
        "connect_errors": int(socket_errors.group(1)) if socket_errors else 0,
    }


def run_wrk(wrk: str, url: str, args, script: Path | None = None, seconds: int | None = None,
            cookie: str = "") -> dict:
    seconds = seconds or args.seconds
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency",
               "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        sys.exit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    if args.verbose:
        print(result.stdout, flush=True)
    return parse_wrk(result.stdout)


# Issue 15's targets, as shares of the ceiling; Oscar 4.2's req/s from the issue's comparison.
TARGETS = {"home": 1 / 3, "product list": 1 / 3, "product page": 1 / 3, "search": 1 / 5,
           "product list (signed in)": 1 / 6, "product page (signed in)": 1 / 6, "add to cart": 1 / 5}
OSCAR = {"home": "(redirect)", "product list": "5.1-8.3", "product page": "56-69", "add to cart": "-"}
ISSUE_BASELINE = {"home": 191, "product list": 119, "product page": 192, "add to cart": 141}  # req/s, ceiling 1,934


def measure_tree(name: str, tree: Path, tmp: Path, args, wrk: str, database_url: str = "") -> tuple[dict, dict, dict]:
    """Set up a shop from `tree` and measure every endpoint; returns (results, data, env)."""
    env = bench_env(tmp / name / "var", tree, database_url)
    started = time.monotonic()
    log(f"{name}: {tree} on {'PostgreSQL' if database_url else 'SQLite'}: migrating ...")
    manage(env, "migrate", "--noinput")
    manage(env, "migrate", "--database", "keys", "--noinput")  # per-person keys, as in the shop
    data = manage_json(env, SETUP_CODE % {"products": args.products, "categories": args.categories})
    log(f"{name}: catalogue {data['total']} products ({len(data['in_stock'])} used for adds, room for "
        f"{data['capacity']} adds per cart), set-up took {time.monotonic() - started:.1f}s")
    results: dict[str, dict] = {}
    app = Server("config.wsgi", env, args.workers, tmp / f"gunicorn-{name}.log")
    try:
        app.wait_ready("/")
        if args.warmup:
            run_wrk(wrk, app.base + "/", args, seconds=args.warmup)
        signed_in = f"sessionid={data['customer_session']}"
        endpoints = [("home", "/", ""), ("product list", "/products/?page=3", ""),
                     ("product page", f"/products/{data['slug']}/", ""),
                     ("search", f"/products/?q={data['word']}", ""),
                     ("product list (signed in)", "/products/?page=3", signed_in),
                     ("product page (signed in)", f"/products/{data['slug']}/", signed_in)]
        for label, path, cookie in endpoints:
            opener = urllib.request.build_opener()
            if cookie:
                opener.addheaders = [("Cookie", cookie)]
            for _ in range(10):  # warm up templates, connections and caches in both workers
                get(app.base + path, opener)
            if cookie and "Sign out" not in get(app.base + path, opener):
                sys.exit("the customer's session cookie does not sign in")
            log(f"{name}: wrk {args.seconds}s  GET {path}{'  (signed in)' if cookie else ''}")
            results[label] = run_wrk(wrk, app.base + path, args, cookie=cookie)

        sessions = [guest_session(app.base, data["slug"], data["product"]) for _ in range(args.threads)]
        script = tmp / f"add_to_cart-{name}.lua"
        script.write_text(ADD_LUA % {
            "sessions": ", ".join(f'{{"{s["csrftoken"]}", "{s["sessionid"]}", "{s["token"]}"}}' for s in sessions),
            "products": ", ".join(str(pk) for pk in data["in_stock"]),
        })
        before = manage_json(env, CART_CODE % [s["sessionid"] for s in sessions])
        log(f"{name}: wrk {args.seconds}s  POST /cart/add/  ({len(sessions)} guest sessions)")
        results["add to cart"] = run_wrk(wrk, app.base + "/cart/add/", args, script)
        after = manage_json(env, CART_CODE % [s["sessionid"] for s in sessions])
        added = after["units"] - before["units"]
        requests = results["add to cart"]["requests"]
        if not 0 <= added - requests <= args.connections:
            # wrk counts the responses it read before stopping; up to one request per connection may
            # still have been served after that. Anything else means adds failed (or double-counted).
            log(f"{name}: add to cart: {requests} requests answered but {added} units added: some adds failed")
            results["add to cart"]["non_ok"] += 1
    finally:
        app.stop()
    return results, data, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--products", type=int, default=1000, help="catalogue size (default 1000)")
    parser.add_argument("--categories", type=int, default=20, help="categories (default 20)")
    parser.add_argument("--oscar", action="store_true",
                        help="the django-oscar comparison's data shape (1,000 products, 20 categories, 20 per "
                             "page), with Oscar's figures from issue 15 printed beside ours")
    parser.add_argument("--before", type=Path, help="another checkout of the shop to measure in the same run "
                                                    "(SQLite), printed as 'before'")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of unmeasured load after each server starts, so that every worker "
                             "has booted and compiled its templates (default 2, 0 to skip)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    parser.add_argument("--verbose", action="store_true", help="print wrk's own output too")
    args = parser.parse_args()
    if args.oscar:
        args.products, args.categories = 1000, 20
    if not (0 <= args.warmup <= 60 and 1 <= args.seconds <= 600 and 1 <= args.threads <= args.connections <= 1000
            and 50 <= args.products <= 1_000_000 and 1 <= args.categories <= 1000):
        parser.error("need 0 <= warmup <= 60, 1 <= seconds <= 600, 1 <= threads <= connections <= 1000, "
                     "50 <= products <= 1,000,000 and 1 <= categories <= 1000")
    if not (VENV_BIN / "gunicorn").exists():
        sys.exit(f"run me with the project's virtualenv: {BASE_DIR / '.venv/bin/python'} {sys.argv[0]}")
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url and not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL: only a PostgreSQL database is used (SQLite is the default)")

    wrk = ensure_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    servers: list[Server] = []
    try:
        before = None
        if args.before is not None:
            before, _, _ = measure_tree("before", args.before.resolve(), tmp, args, wrk)
        results, data, env = measure_tree("after", BASE_DIR, tmp, args, wrk, database_url)

        ceiling_env = dict(env, SHOP_BENCH_CEILING="1")
        ceiling = Server("tests.bench.ceiling_wsgi", ceiling_env, args.workers, tmp / "gunicorn-ceiling.log")
        servers.append(ceiling)
        ceiling.wait_ready("/__bench_ceiling__")
        if args.warmup:
            run_wrk(wrk, ceiling.base + "/__bench_ceiling__", args, seconds=args.warmup)
        for _ in range(10):
            get(ceiling.base + "/__bench_ceiling__")
        log(f"wrk {args.seconds}s  GET /__bench_ceiling__  (bare view, same middleware)")
        top = run_wrk(wrk, ceiling.base + "/__bench_ceiling__", args)
        ceiling.stop()

        print()
        print(f"gunicorn -w {args.workers} (sync), wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, "
              f"{'PostgreSQL' if database_url else 'SQLite'}, DEBUG=0, {data['total']} products in "
              f"{args.categories} categories, page size 20, {os.cpu_count()} CPUs shared by all; "
              f"ceiling (bare view, same middleware) {top['rps']:.0f} req/s, p50 {top['p50']:.2f} ms, "
              f"p99 {top['p99']:.2f} ms")
        header = (f"{'endpoint':<26}" + (f"{'before':>9}{'ratio':>7}" if before else "")
                  + f"{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>8}{'ratio':>7}{'target':>8}{'ok':>4}"
                  + (f"{'oscar':>11}" if args.oscar else "") + f"{'errors':>7}")
        print(header)
        print("-" * len(header))
        failed = bool(top["non_ok"] or top["timeouts"] or top["connect_errors"])
        for name, r in results.items():
            errors = r["non_ok"] + r["timeouts"] + r["connect_errors"]
            failed = failed or bool(errors)
            share, spread = r["rps"] / top["rps"], r["p99"] / r["p50"] if r["p50"] else 0.0
            ok = share >= TARGETS[name] and spread <= 3
            row = f"{name:<26}"
            if before:
                row += f"{before[name]['rps']:>9.0f}{before[name]['rps'] / top['rps']:>7.1%}"
            row += (f"{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{spread:>8.1f}{share:>7.1%}"
                    f"{f'1/{round(1 / TARGETS[name])}':>8}{'yes' if ok else 'no':>4}")
            if args.oscar:
                row += f"{OSCAR.get(name, '-'):>11}"
            print(row + f"{errors:>7}")
        if args.oscar:
            print("\noscar: django-oscar 4.2 req/s on the same data shape, from issue 15's side-by-side run "
                  "(same machine, another day); the issue's baseline of this shop then: "
                  + ", ".join(f"{k} {v}" for k, v in ISSUE_BASELINE.items()) + " req/s (ceiling 1,934)")
        print("ratio: requests/s as a share of the ceiling measured in this run; target: issue 15's; "
              "ok: ratio >= target and p99 <= 3 x p50")
        print("errors: non-2xx/3xx responses + socket timeouts + connect errors + failed adds "
              "(read errors are sync workers closing connections, not failures)")
        return 1 if failed else 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
