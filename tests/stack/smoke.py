"""The smoke journey of the production stack stage (.ci/stack), over HTTPS through the proxy.

A guest browses, searches, fills a cart and pays by card (the card is confirmed with the fake
Stripe API as Stripe Elements would; Stripe's signed webhook is posted through the proxy); the
order email reaches the SMTP sink. A new customer signs up, follows the emailed link, asks for
"Download my data", and downloads the archive the worker built through the web process that did
NOT take the request. The beat's purge is seen in the database. Every response is checked for
the security headers. Exits 0 when all of it held, 1 with the step that failed otherwise.

Reads its settings from the environment (written by .ci/stack): STACK_URL, STACK_HTTP_URL,
STACK_CA, STACK_MAIL_DIR, STACK_STARTED (epoch seconds), STACK_DEADLINE (epoch seconds),
DATABASE_URL, STRIPE_API_BASE, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET.
"""
from __future__ import annotations

import email
import email.policy
import html
import io
import json
import os
import re
import secrets
import sys
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import requests
import stripe

from tests.fakes.stripe_server import confirm_intent, signed_webhook

BASE = os.environ["STACK_URL"].rstrip("/")
CA = os.environ["STACK_CA"]
MAIL_DIR = Path(os.environ["STACK_MAIL_DIR"])
DEADLINE = float(os.environ.get("STACK_DEADLINE", time.time() + 180))
PASSWORD = "a long smoke passphrase 7391"


class Failed(Exception):
    pass


def expect(condition, message: str) -> None:
    if not condition:
        raise Failed(message)


def step(title: str) -> None:
    print(f"[smoke {time.strftime('%H:%M:%S')}] {title}", flush=True)


# --- every response: security headers --------------------------------------------------------
SEEN = {"responses": 0, "upstreams": set()}


def check_headers(response: requests.Response, *args, **kwargs) -> None:
    h, where = response.headers, f"{response.request.method} {response.url} ({response.status_code})"
    SEEN["responses"] += 1
    if "X-Upstream" in h:
        SEEN["upstreams"].add(h["X-Upstream"])
    hsts = h.get("Strict-Transport-Security", "")
    expect(re.search(r"max-age=(\d+)", hsts) and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
           and "includeSubDomains" in hsts, f"{where}: HSTS missing or short: {hsts!r}")
    expect(h.get("X-Content-Type-Options") == "nosniff", f"{where}: X-Content-Type-Options: nosniff missing")
    expect(h.get("Referrer-Policy") in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"},
           f"{where}: Referrer-Policy missing")
    if h.get("Content-Type", "").startswith("text/html"):
        csp = h.get("Content-Security-Policy", "")
        expect("default-src 'self'" in csp and "frame-ancestors 'none'" in csp, f"{where}: CSP missing: {csp!r}")
        expect(h.get("X-Frame-Options") == "DENY", f"{where}: X-Frame-Options missing")
    server = h.get("Server", "")
    expect(not re.search(r"\d", server) and "gunicorn" not in server.lower(),
           f"{where}: Server header leaks a version or the upstream: {server!r}")


def browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # this CA only (a CA bundle or proxy from the environment would win)
    session.verify = CA
    session.headers.update({"User-Agent": "shop-smoke/1", "Origin": BASE, "Referer": BASE + "/"})
    session.hooks["response"].append(check_headers)
    return session


def get(session, path: str, status: int = 200, **kwargs) -> requests.Response:
    response = session.get(BASE + path if path.startswith("/") else path, timeout=30, **kwargs)
    expect(response.status_code == status, f"GET {path}: {response.status_code}, expected {status}\n"
           f"{response.text[:1500]}")
    return response


def csrf(page: requests.Response) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    expect(found, f"no CSRF token on {page.url}")
    return found.group(1)


def post(session, path: str, data: dict, page: requests.Response, status: int = 200) -> requests.Response:
    response = session.post(BASE + path if path.startswith("/") else path,
                            data={"csrfmiddlewaretoken": csrf(page), **data}, timeout=30)
    expect(response.status_code == status, f"POST {path}: {response.status_code}, expected {status}\n"
           f"{response.text[:1500]}")
    return response


def wait_for(what: str, condition, timeout: float = 60, interval: float = 0.5):
    deadline = min(time.time() + timeout, DEADLINE)
    while True:
        value = condition()
        if value:
            return value
        if time.time() > deadline:
            raise Failed(f"timed out waiting for {what}")
        time.sleep(interval)


def mail_to(address: str, containing: str):
    """The first message in the SMTP sink for `address` whose text contains `containing`."""
    for path in sorted(MAIL_DIR.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address not in message.get("To", ""):
            continue
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        if containing in text or containing in message.get("Subject", ""):
            return message, text
    return None


# --- the journey --------------------------------------------------------------------------------

def guest_buys(guest: requests.Session) -> str:
    step("browse: home, catalogue, a product")
    get(guest, "/")
    listing = get(guest, "/products/")
    slugs = re.findall(r'href="/products/([\w-]+)/"', listing.text)
    expect(slugs, "the catalogue lists no product")
    for slug in slugs:  # the first product on sale (the demo catalogue has sold-out ones too)
        product = get(guest, f"/products/{slug}/")
        if found := re.search(r'name="product" value="(\d+)"', product.text):
            break
    expect(found, "no product on the first catalogue page can be added to a cart")
    name = html.unescape(re.search(r"<h1[^>]*>([^<]+)</h1>", product.text).group(1).strip())
    product_id = found.group(1)

    step(f"search for {name!r}")
    word = max(re.findall(r"[A-Za-z]{3,}", name), key=len)
    found = get(guest, "/products/", params={"q": word.lower()})
    expect(f'href="/products/{slug}/"' in found.text, f"searching {word!r} did not find {name!r}")
    nothing = get(guest, "/products/", params={"q": "zzqxjv"})
    expect(f'href="/products/{slug}/"' not in nothing.text, "a search for nonsense listed the product")

    step("add to cart, guest checkout")
    post(guest, "/cart/add/", {"product": product_id, "quantity": "2"}, product)
    cart = get(guest, "/cart/")
    expect(name in html.unescape(cart.text), "the cart does not show the product")
    checkout = get(guest, "/checkout/")
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', checkout.text).group(1)
    guest_email = f"smoke.guest.{secrets.token_hex(3)}@example.com"
    pay = post(guest, "/checkout/", {"email": guest_email, "name": "Smoke Guest", "line1": "1 Harbour Road",
                                     "line2": "", "city": "Arlington", "postal_code": "22201", "region": "VA",
                                     "country": "US", "phone": "", "fingerprint": fingerprint}, checkout)
    reference = re.search(r"/orders/([^/]+)/pay/", pay.url)
    expect(reference, f"checkout did not lead to the payment page: {pay.url}")
    reference = reference.group(1)
    secret = re.search(r'data-client-secret="(pi_[^"]+)"', pay.text)
    expect(secret, "the payment page has no Stripe client secret")
    expect("https://js.stripe.com" in pay.headers["Content-Security-Policy"], "payment page CSP lacks Stripe")

    step(f"order {reference}: pay with a test card at (fake) Stripe, then Stripe's signed webhook")
    client = stripe.StripeClient(os.environ["STRIPE_SECRET_KEY"],
                                 base_addresses={"api": os.environ["STRIPE_API_BASE"]}, max_network_retries=0)
    intent = confirm_intent(client, secret.group(1).split("_secret_")[0])
    expect(intent.status == "succeeded", f"the test payment did not succeed: {intent.status}")
    event = {"id": f"evt_smoke_{secrets.token_hex(6)}", "object": "event", "type": "payment_intent.succeeded",
             "created": int(time.time()), "data": {"object": intent.to_dict()}}
    body, signature = signed_webhook(event, os.environ["STRIPE_WEBHOOK_SECRET"])
    hook = browser()  # Stripe's server: no cookies, no Origin
    hook.headers.pop("Origin")
    hook.headers.pop("Referer")
    forged = hook.post(BASE + "/payments/stripe/webhook/", data=body, timeout=30,
                       headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"})
    expect(forged.status_code == 400, f"an unsigned webhook was not refused: {forged.status_code}")
    answer = hook.post(BASE + "/payments/stripe/webhook/", data=body, timeout=30,
                       headers={"Content-Type": "application/json", "Stripe-Signature": signature})
    expect((answer.status_code, answer.text) == (200, "applied"), f"webhook: {answer.status_code} {answer.text}")
    thanks = get(guest, f"/orders/{reference}/thanks/")
    expect(reference in thanks.text, "the thank-you page does not name the order")

    step("the order email arrives at the SMTP sink (sent by the worker)")
    message, text = wait_for("the order email", lambda: mail_to(guest_email, reference))
    expect("Smoke Guest" in text or reference in text, "the order email does not name the order")
    print(f"  order email: {message['Subject']!r}")
    return reference


def customer_downloads_data(customer: requests.Session) -> None:
    address = f"smoke.customer.{secrets.token_hex(3)}@example.com"
    step("sign up, verify by the emailed link")
    signup = get(customer, "/accounts/signup/")
    post(customer, "/accounts/signup/", {"email": address, "password1": PASSWORD, "password2": PASSWORD,
                                         "adult": "on"}, signup)
    _, text = wait_for("the verification email", lambda: mail_to(address, "/accounts/confirm-email/"))
    link = re.search(r"https://\S+/accounts/confirm-email/\S+", text)
    expect(link and link.group(0).startswith(BASE), f"no confirmation link to {BASE} in the email")
    confirm = get(customer, link.group(0))
    post(customer, link.group(0), {}, confirm)
    login = get(customer, "/accounts/login/")
    if "/accounts/login/" in login.url:
        post(customer, "/accounts/login/", {"login": address, "password": PASSWORD}, login)
    dashboard = get(customer, "/account/privacy/")
    expect("/accounts/login/" not in dashboard.url, "the verified customer could not sign in")

    step("Download my data: asked on one web process ...")
    started = post(customer, "/account/privacy/export/", {}, dashboard)
    asked_on = started.history[0].headers.get("X-Upstream") if started.history else started.headers.get("X-Upstream")
    expect(asked_on, "the proxy did not say which web process took the request")

    def ready_link():
        page = get(customer, "/account/privacy/")
        found = re.search(r'href="(/account/privacy/download/[^"]+)"', page.text)
        return found.group(1) if found else None

    link = wait_for("the export to be built by the worker", ready_link, timeout=90, interval=1)
    wait_for("the 'data is ready' email", lambda: mail_to(address, "Your data is ready"))

    step(f"... built by the worker, downloaded through the other one (asked on {asked_on})")
    for _ in range(6):
        download = get(customer, link)
        if download.headers.get("X-Upstream") != asked_on:
            break
    else:
        raise Failed("every download went to the web process that took the request")
    print(f"  downloaded through {download.headers['X-Upstream']}: {len(download.content)} bytes")
    expect(download.headers["Content-Type"] == "application/zip", "the download is not a zip")
    expect("no-store" in download.headers.get("Cache-Control", ""), "the download may be cached")
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        names = archive.namelist()
        expect("data.json" in names, f"no data.json in the archive: {names}")
        data = json.loads(archive.read("data.json"))
    expect(data.get("schema_version") == 1, "the archive is not schema version 1")
    expect(address in json.dumps(data), "the archive does not hold the customer's own address")
    private_files_hold_no_plaintext(address)


def private_files_hold_no_plaintext(address: str) -> None:
    """Wherever the private files went (the bucket, or the local folder every process of this one
    host shares while the shop's storage is not on S3), none holds the customer's address."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_S3_ENDPOINT_URL"],
                      region_name=os.environ["AWS_S3_REGION_NAME"])
    bucket = os.environ["AWS_STORAGE_BUCKET_NAME"]
    objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    for item in objects:
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        expect(address.encode() not in body, f"s3://{bucket}/{item['Key']} holds the address in plaintext")
    local = [p for p in Path(os.environ["SHOP_PRIVATE_ROOT"]).rglob("*") if p.is_file()]
    for path in local:
        expect(address.encode() not in path.read_bytes(), f"{path} holds the address in plaintext")
    expect(objects or local, "the export is neither in the bucket nor in the private folder")
    print(f"  private files: {len(objects)} in the bucket, {len(local)} in the shared local folder; "
          "none in plaintext" + ("" if objects else " (the shop's storage is not on S3 in this tree)"))


def beat_ran_the_purge() -> None:
    step("the beat's retention purge ran (seen in the database)")
    started = datetime.fromtimestamp(float(os.environ["STACK_STARTED"]), tz=timezone.utc)

    def finished_run():
        with psycopg.connect(os.environ["DATABASE_URL"]) as db:
            return db.execute("SELECT id, status, seconds FROM privacy_purgerun WHERE started_at >= %s "
                              "AND status = 'finished' AND NOT dry_run ORDER BY id LIMIT 1", (started,)).fetchone()
    run = wait_for("a purge run started by beat", finished_run, timeout=60, interval=1)
    print(f"  purge run {run[0]}: {run[1]} in {run[2]:.2f}s")


def main() -> int:
    try:
        step("health through the proxy; plain HTTP goes to HTTPS")
        probe = browser()
        health = get(probe, "/healthz/", params={"format": "json"})
        expect(all(v == "OK" for v in health.json().values()), f"unhealthy: {health.text}")
        direct = requests.Session()
        direct.trust_env = False
        plain = direct.get(os.environ["STACK_HTTP_URL"] + "/products/", allow_redirects=False, timeout=10)
        expect(plain.status_code == 301 and plain.headers["Location"] == BASE + "/products/",
               f"plain HTTP did not redirect to HTTPS: {plain.status_code} {plain.headers.get('Location')}")
        guest_buys(browser())
        customer_downloads_data(browser())
        beat_ran_the_purge()
        expect(len(SEEN["upstreams"]) == 2, f"the proxy did not balance across both web processes: {SEEN['upstreams']}")
    except Failed as failure:
        print(f"\nSMOKE FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    print(f"smoke journey passed: {SEEN['responses']} responses, every one with the security headers; "
          f"web processes used: {', '.join(sorted(SEEN['upstreams']))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
