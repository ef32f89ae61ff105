"""Security headers, cookies and inline-free pages on a sample of the site, and the production
settings that secure transport (P26).

Every sampled page must carry a strict Content-Security-Policy (scripts from our own origin only;
the payment page may add Stripe's script origin and nothing else), refuse framing, sniffing and
powerful browser features, set its session and CSRF cookies HttpOnly + SameSite=Lax, and contain
nothing inline that the CSP would have to allow (no inline script, no style element or attribute,
no inline event handler).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order, SupportMessage, SupportThread
from shop.models import Address
from tests.factories import PASSWORD, OrderFactory, ProductFactory, UserFactory, staff_user
from tests.test_settings import GOOD, manage

pytestmark = [pytest.mark.django_db, pytest.mark.promise("P26")]

SELF = "'self'"
STRIPE_JS = "https://js.stripe.com"
STRICT_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


# --- helpers --------------------------------------------------------------------------------

def parse_csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    return directives


# Non-executable data blocks (<script type="application/json">, Django's json_script) are not
# scripts: browsers never run them and CSP does not govern them, so they are not "inline script".
DATA_BLOCK_TYPES = {"application/json", "application/ld+json"}
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
TYPE_ATTR = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.I)
SRC_ATTR = re.compile(r"\bsrc\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b[^>]*>", re.I)
STYLE_ATTR = re.compile(r"""<[a-zA-Z][\w:-]*(?:\s+[^>]*?)?\sstyle\s*=\s*["'][^"']*["']""", re.I)
EVENT_ATTR = re.compile(r"""<[a-zA-Z][\w:-]*(?:\s+[^>]*?)?\son[a-z]+\s*=""", re.I)
JS_URL = re.compile(r"""\b(?:href|src|action|formaction)\s*=\s*["']\s*javascript:""", re.I)


def inline_findings(html: str) -> list[str]:
    """Everything inline that a strict CSP blocks, as short excerpts."""
    found = []
    for match in SCRIPT_TAG.finditer(html):
        attrs = match.group(1)
        kind = TYPE_ATTR.search(attrs)
        if SRC_ATTR.search(attrs) or (kind and kind.group(1).lower() in DATA_BLOCK_TYPES):
            continue
        found.append(f"inline <script>: {html[match.start():match.start() + 120]!r}")
    for label, pattern in (("<style> element", STYLE_ELEMENT), ("style= attribute", STYLE_ATTR),
                           ("inline event handler", EVENT_ATTR), ("javascript: URL", JS_URL)):
        for match in pattern.finditer(html):
            found.append(f"{label}: {match.group(0)[:120]!r}")
    return found


def csp_problems(response, *, payment: bool = False) -> list[str]:
    header = response.headers.get("Content-Security-Policy")
    if not header:
        return ["no Content-Security-Policy header"]
    csp = parse_csp(header)
    problems = []
    allowed_scripts = {SELF, STRIPE_JS} if payment else {SELF}
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None:
        problems.append("no script-src (nor default-src)")
    else:
        if SELF not in scripts:
            problems.append(f"script-src lacks 'self': {scripts}")
        extra = [t for t in scripts if t not in allowed_scripts]
        if extra:
            problems.append(f"script-src allows more than {sorted(allowed_scripts)}: {extra}")
    if "script-src-elem" in csp or "script-src-attr" in csp:
        problems.append("script-src-elem/-attr would override script-src")
    styles = csp.get("style-src", csp.get("default-src"))
    if styles is None:
        problems.append("no style-src (nor default-src)")
    elif "'unsafe-inline'" in styles or "'unsafe-eval'" in styles or "'unsafe-hashes'" in styles:
        problems.append(f"style-src allows inline styles: {styles}")
    for name, tokens in csp.items():
        if "'unsafe-eval'" in tokens or ("'unsafe-inline'" in tokens and name != "style-src"):
            problems.append(f"{name} allows unsafe sources: {tokens}")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors is {csp.get('frame-ancestors')}, not 'none'")
    if csp.get("default-src") is None:
        problems.append("no default-src")
    return problems


def header_problems(response) -> list[str]:
    problems = []
    if response.headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        problems.append(f"X-Content-Type-Options is {response.headers.get('X-Content-Type-Options')!r}")
    referrer = response.headers.get("Referrer-Policy", "")
    if not referrer or not set(v.strip() for v in referrer.split(",")) <= STRICT_REFERRER:
        problems.append(f"Referrer-Policy is {referrer!r}")
    policy = response.headers.get("Permissions-Policy", "")
    if "geolocation=()" not in [p.strip() for p in policy.split(",")]:
        problems.append(f"Permissions-Policy lacks geolocation=(): {policy!r}")
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options is {response.headers.get('X-Frame-Options')!r}")
    return problems


SENSITIVE_COOKIES = ("sessionid", "csrftoken")


def cookie_problems(response) -> list[str]:
    problems = []
    for name in SENSITIVE_COOKIES:
        morsel = response.cookies.get(name)
        if morsel is None:
            continue
        if not morsel["httponly"]:
            problems.append(f"{name} cookie is not HttpOnly")
        if str(morsel["samesite"]).lower() != "lax":
            problems.append(f"{name} cookie SameSite is {morsel['samesite']!r}, not Lax")
    return problems


# --- the sample -------------------------------------------------------------------------------

@dataclass
class Page:
    label: str
    client: Client
    url: str


@pytest.fixture
def sample(db):
    """A customer with an address, an order and a conversation; a guest with an item in the cart;
    a superuser with MFA. Returns a function label -> Page."""
    product = ProductFactory(name="Brass Compass", slug="brass-compass", price="35.00", stock=20)
    customer = UserFactory(name="Olive Stroud")
    address = Address.objects.create(user=customer, name="Olive Stroud", line1="9 Lantern Lane", city="Bath",
                                     postal_code="BA1 1AA", country="GB", is_default=True)
    order = OrderFactory(user=customer, email=customer.email, status=Order.Status.PAID)
    thread = SupportThread.objects.create(user=customer, email=customer.email, email_index="x" * 64,
                                          subject="Where is my compass?", token="t" * 32)
    SupportMessage.objects.create(thread=thread, body="It has not arrived yet.")
    signed_in = Client()
    signed_in.force_login(customer)
    guest = Client()
    guest.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1})
    anonymous = Client()
    boss = staff_user(None, is_superuser=True)
    admin_client = Client()
    admin_client.force_login(boss)

    pages = {
        "home": Page("home", anonymous, reverse("shop:home")),
        "product list": Page("product list", anonymous, reverse("shop:product_list")),
        "product page": Page("product page", anonymous, reverse("shop:product_detail", args=[product.slug])),
        "cart": Page("cart", guest, reverse("shop:cart")),
        "checkout": Page("checkout", guest, reverse("orders:checkout")),
        "login": Page("login", anonymous, reverse("account_login")),
        "signup": Page("signup", anonymous, reverse("account_signup")),
        "privacy policy": Page("privacy policy", anonymous, reverse("privacy:policy")),
        "cookie settings": Page("cookie settings", anonymous, reverse("privacy:cookies")),
        "support form": Page("support form", anonymous, reverse("orders:support")),
        "privacy contact": Page("privacy contact", anonymous, reverse("privacy:contact")),
        "account center": Page("account center", signed_in, reverse("account:center")),
        "profile": Page("profile", signed_in, reverse("account:profile")),
        "addresses": Page("addresses", signed_in, reverse("account:addresses")),
        "address edit": Page("address edit", signed_in, reverse("account:address_edit", args=[address.pk])),
        "my orders": Page("my orders", signed_in, reverse("orders:mine")),
        "order page": Page("order page", signed_in, reverse("orders:detail", args=[order.reference])),
        "security": Page("security", signed_in, reverse("account:security")),
        "my data": Page("my data", signed_in, reverse("privacy:dashboard")),
        "delete account": Page("delete account", signed_in, reverse("privacy:delete_account")),
        "messages": Page("messages", signed_in, reverse("orders:threads")),
        "conversation": Page("conversation", signed_in, reverse("orders:thread", args=[thread.pk])),
        "email settings": Page("email settings", signed_in, reverse("account_email")),
        "change password": Page("change password", signed_in, reverse("account_change_password")),
        "two-factor": Page("two-factor", signed_in, reverse("mfa_index")),
        "sessions": Page("sessions", signed_in, reverse("usersessions_list")),
        "admin index": Page("admin index", admin_client, reverse("admin:index")),
    }
    return pages.__getitem__


STOREFRONT = ["home", "product list", "product page", "cart", "checkout", "login", "signup", "privacy policy",
              "cookie settings", "support form", "privacy contact"]
PERSONAL_CENTER = ["account center", "profile", "addresses", "address edit", "my orders", "order page", "security",
                   "my data", "delete account", "messages", "conversation", "email settings", "change password",
                   "two-factor", "sessions"]
SAMPLE = STOREFRONT + PERSONAL_CENTER + ["admin index"]


def get_ok(page: Page):
    response = page.client.get(page.url)
    assert response.status_code == 200, f"{page.label} {page.url}: {response.status_code}"
    return response


@pytest.mark.parametrize("label", SAMPLE)
def test_each_sampled_page_sends_a_strict_csp_and_the_security_headers(sample, label):
    page = sample(label)
    response = get_ok(page)
    problems = csp_problems(response) + header_problems(response) + cookie_problems(response)
    assert not problems, f"{page.label} ({page.url}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("label", SAMPLE)
def test_no_sampled_page_has_inline_script_or_style(sample, label):
    page = sample(label)
    response = get_ok(page)
    found = inline_findings(response.content.decode())
    assert not found, f"{page.label} ({page.url}) has inline code a strict CSP blocks:\n  " + "\n  ".join(found)


def test_the_payment_page_adds_only_stripe_js_to_script_src(stripe_fake, shopper, client):
    product = ProductFactory(price="12.00", stock=5)
    shopper.add(product)
    response = shopper.checkout()
    assert response.status_code == 302
    pay_url = response["Location"]
    assert re.fullmatch(r"/orders/[A-Z0-9]{12}/pay/", pay_url)
    page = client.get(pay_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="payment-form"' in html and f'<script src="{STRIPE_JS}/v3/"></script>' in html
    problems = csp_problems(page, payment=True) + header_problems(page) + cookie_problems(page)
    assert not problems, "\n".join(problems)
    scripts = parse_csp(page.headers["Content-Security-Policy"])["script-src"]
    assert sorted(scripts) == sorted([SELF, STRIPE_JS])
    assert not inline_findings(html)


def test_stripe_is_not_allowed_anywhere_but_the_payment_page(stripe_fake, sample):
    for label in ("home", "checkout", "order page", "cart"):
        response = get_ok(sample(label))
        assert "stripe" not in response.headers["Content-Security-Policy"], label


def test_session_and_csrf_cookies_are_httponly_and_samesite_lax(db):
    """Both cookies are really set along the way (sign-in form, sign-in, cart) and every time
    with HttpOnly and SameSite=Lax."""
    user = UserFactory(email="lax.cookie@example.com")
    product = ProductFactory(stock=3)
    browser = Client()
    seen: dict[str, list] = {name: [] for name in SENSITIVE_COOKIES}
    steps = [
        browser.get(reverse("account_login")),
        browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}),
        browser.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1}),
        browser.get(reverse("orders:checkout")),
    ]
    guest = Client()
    steps += [guest.get(reverse("shop:home")), guest.post(reverse("shop:cart_add"), {"product": product.pk})]
    for response in steps:
        assert response.status_code in (200, 302)
        for name in SENSITIVE_COOKIES:
            if name in response.cookies and response.cookies[name].value:
                seen[name].append(response.cookies[name])
        assert not cookie_problems(response)
    assert seen["sessionid"] and seen["csrftoken"], {k: len(v) for k, v in seen.items()}
    for name, morsels in seen.items():
        for morsel in morsels:
            assert morsel["httponly"] is True, name
            assert morsel["samesite"] == "Lax", name
            assert morsel["path"] == "/", name


# --- every admin page: strict headers, nothing inline ------------------------------------------------------

PERIODIC_TASK_FORMS = {"admin:django_celery_beat_periodictask_add", "admin:django_celery_beat_periodictask_change"}


def admin_pages(world) -> list[tuple[str, str]]:
    """(url name, url) of the list, add and change page of every registered ModelAdmin, and the
    shop's own admin pages."""
    from django.contrib import admin

    pages = []
    for model in admin.site._registry:
        base = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages += [(f"{base}_changelist", reverse(f"{base}_changelist")), (f"{base}_add", reverse(f"{base}_add"))]
        obj = world.admin_objects.get(model)
        if obj is not None:
            pages.append((f"{base}_change", reverse(f"{base}_change", args=[obj.pk])))
    o = world.objects
    pages += [("admin:index", reverse("admin:index")), ("admin:orders_statistics", reverse("admin:orders_statistics")),
              ("admin:privacy_record_of_processing", reverse("admin:privacy_record_of_processing")),
              ("admin:orders_order_ship", reverse("admin:orders_order_ship", args=[o["paid"].pk])),
              ("admin:orders_order_reveal", reverse("admin:orders_order_reveal", args=[o["paid"].pk])),
              ("admin:privacy_request_reply", reverse("admin:privacy_request_reply", args=[o["question"].pk])),
              ("admin:privacy_policyversion_publish", reverse("admin:privacy_policyversion_publish",
                                                              args=[o["draft"].pk]))]
    return pages


def admin_page_problems(client, pages) -> list[str]:
    problems = []
    for name, url in pages:
        response = client.get(url)
        if response.status_code != 200:  # statuses are the authorization matrix's business
            continue
        problems += [f"{name} {url}: {p}" for p in csp_problems(response) + header_problems(response)]
        problems += [f"{name} {url}: {f}" for f in inline_findings(response.content.decode())]
    return problems


@pytest.fixture
def admin_world(db):
    from tests.security.test_authorization_matrix import build_world

    return build_world()


def test_every_admin_page_is_strict_and_inline_free(admin_world):
    """As the superuser: every list, add and change page of the admin, and the shop's own
    admin pages, carry the strict CSP and the headers, and put nothing inline."""
    pages = [(n, u) for n, u in admin_pages(admin_world) if n not in PERIODIC_TASK_FORMS]
    assert len(pages) > 50
    problems = admin_page_problems(admin_world.clients["superuser"], pages)
    assert not problems, "\n".join(problems)


def test_the_periodic_task_forms_have_no_inline_script(admin_world):
    pages = [(n, u) for n, u in admin_pages(admin_world) if n in PERIODIC_TASK_FORMS]
    assert len(pages) == 2
    problems = admin_page_problems(admin_world.clients["superuser"], pages)
    assert not problems, "\n".join(problems)


# --- production settings --------------------------------------------------------------------------

PRINT_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'hsts': s.SECURE_HSTS_SECONDS, 'hsts_sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
    "'ssl_redirect': s.SECURE_SSL_REDIRECT, 'debug': s.DEBUG, 'session_httponly': s.SESSION_COOKIE_HTTPONLY, "
    "'csrf_httponly': s.CSRF_COOKIE_HTTPONLY, 'session_samesite': s.SESSION_COOKIE_SAMESITE, "
    "'csrf_samesite': s.CSRF_COOKIE_SAMESITE, 'xfo': s.X_FRAME_OPTIONS, 'nosniff': s.SECURE_CONTENT_TYPE_NOSNIFF, "
    "'proxy': list(s.SECURE_PROXY_SSL_HEADER or [])}))"
)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_production_check_deploy_has_no_warning(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **GOOD, SHOP_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_force_https_hsts_and_secure_cookies(tmp_path):
    result = manage("shell", "-c", PRINT_SETTINGS, **GOOD, SHOP_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    values = last_json(result.stdout)
    assert values["hsts"] >= 31536000, values
    assert values["hsts_sub"] is True
    assert values["session_secure"] is True and values["csrf_secure"] is True
    assert values["ssl_redirect"] is True
    assert values["debug"] is False
    assert values["session_httponly"] is True and values["csrf_httponly"] is True
    assert values["session_samesite"] == "Lax" and values["csrf_samesite"] == "Lax"
    assert values["xfo"] == "DENY" and values["nosniff"] is True


def test_the_admin_lives_at_a_configurable_url(tmp_path):
    code = ("from django.urls import reverse, resolve, Resolver404\n"
            "print(reverse('admin:index'))\n"
            "try:\n    m = resolve('/staff/'); print(m.view_name or m.url_name or 'resolved')\n"
            "except Resolver404:\n    print('no /staff/')")
    result = manage("shell", "-c", code, **GOOD, ADMIN_URL="backoffice/", SHOP_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2:] == ["/backoffice/", "no /staff/"], result.stdout
