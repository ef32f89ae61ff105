"""The authorization matrix (P11, P17): every URL pattern of the site, requested with GET by
every kind of visitor, against what each of them may see.

Visitors: anonymous, another customer, each staff role of privacy/protection/roles.py (Catalogue, Customer
service, Fulfilment, Privacy officer; all with MFA, as the admin requires), a superuser, and the
owner — a customer named "Zebulon Quartermaine" with an address, orders, a conversation with an
attachment, a ready data export, a privacy request, a consent and a restriction.

What is asserted, for every (URL, visitor):
  * nothing answers 5xx;
  * the owner's pages (orders, addresses, conversations, attachments, exports) answer the owner
    and nobody else: 404 for everyone else (anonymous may instead be sent to sign in) — never
    200 with the owner's data;
  * "your account" pages are for whoever is signed in (their own data); anonymous is sent to
    sign in;
  * bearer-token pages (the emailed guest links) work for whoever holds the token and are a 404
    for a tampered token;
  * admin pages: customers and anonymous are sent to sign in; each staff role gets 200 exactly
    where privacy/protection/roles.py grants it (403 otherwise; Django's own 302/404 where the object is
    outside the role's view); the superuser gets everything the admin classes allow anybody;
  * the owner's distinctive values (name, address line, email, phone) appear in no response to
    anybody but the owner, except in the small ALLOWED_UNMASKED list below.

The expected admin statuses are computed from privacy.protection.roles.ROLES (not from the database), so
a role whose group drifted from the table, or an admin view that forgets its permission check,
shows up as a cell of the table printed on failure.

Every URL pattern must be classified here: a new view without a row fails
test_every_url_pattern_is_in_the_matrix until it is added.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from orders.models import (
    Attachment,
    Notification,
    Order,
    ReturnLine,
    ReturnRequest,
    SupportThread,
    WebhookEvent,
)
from privacy.protection.roles import ROLES
from shop.models import Address
from tests.factories import OrderFactory, ProductFactory, UserFactory, staff_user
from tests.legal_holds import hold_on

pytestmark = [pytest.mark.django_db, pytest.mark.promise("P11"), pytest.mark.promise("P17")]

STAFF_ROLES = list(ROLES)  # Catalogue, Customer service, Fulfilment, Privacy officer
VISITORS = ["anonymous", "other customer", *STAFF_ROLES, "superuser", "owner"]

OWNER = {"name": "Zebulon Quartermaine", "line1": "4417 Xylophone Crescent",
         "email": "zebulon.quartermaine@owner.example", "phone": "+1 202 555 0187"}
OWNER_VALUES = list(OWNER.values())
# The holder of the emailed links (bearer tokens): a guest with values of their own, so that the
# owner's values stay a meaningful test on every page, token pages included.
GUEST = {"name": "Philippa Guestwright", "line1": "88 Marigold Terrace", "email": "philippa.guest@guest.example"}

# Where a staff member is meant to see the owner's values in full, and which ones. Everything
# else shows them masked (or not at all).
#   * Fulfilment ships paid orders: name, address and phone on a PAID order's change page
#     (OrderAdmin.job_fields), never the email. A superuser sees masks like everyone (the role
#     grants this, not superuser status) and reveals with a reason.
#   * The Privacy officer answers privacy requests: the requester's email on the request's change
#     page (PrivacyRequestAdmin.job_fields, privacy.handle_privacyrequest).
#   * The reveal page after a POST with a reason (tested in test_reveal_shows_values_only_...):
#     a GET shows only the form, so it is not in this list.
SHIPPING_VALUES = {OWNER["name"], OWNER["line1"], OWNER["phone"]}
ALLOWED_UNMASKED: dict[tuple[str, str], set[str]] = {
    ("Fulfilment", "admin:orders_order_change [paid order]"): SHIPPING_VALUES,
    ("Privacy officer", "admin:privacy_privacyrequest_change"): {OWNER["email"]},
}


@dataclass(frozen=True)
class KnownBug:
    reason: str
    labels: frozenset
    visitors: frozenset


# Application bugs this matrix finds and that cannot be fixed at once can go here, to be left out
# of test_authorization_matrix (with a strict xfail test of their own, as in git history). It found
# three — two admin pages shadowed by custom URLs and allauth's admin showing emails in clear —
# all fixed, so the matrix covers every cell.
RETURN_ADMIN = ("admin:orders_returnrequest_change", "admin:orders_returnrequest_history",
                "admin:orders_returnrequest_delete", "admin:orders_returnrequest_reveal")
INCIDENT_ADMIN = ("admin:privacy_incident_change", "admin:privacy_incident_history", "admin:privacy_incident_delete")
CLEAR_EMAIL_ADMIN = ("admin:account_emailaddress_changelist", "admin:account_emailaddress_change",
                     "admin:account_emailaddress_history", "admin:account_emailaddress_delete",
                     "admin:auth_user_password_change")
KNOWN_BUGS: dict[str, KnownBug] = {}  # all fixed: the matrix covers every cell


def known_bug_of(cell) -> str | None:
    return next((key for key, bug in KNOWN_BUGS.items()
                 if cell.label in bug.labels and cell.visitor in bug.visitors), None)


# --- the world ------------------------------------------------------------------------------------

def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class World:
    clients: dict[str, Client]
    users: dict[str, object]
    objects: dict[str, object]
    tokens: dict[str, str]
    admin_objects: dict[type, object]


def build_world() -> World:
    from allauth.account.forms import default_token_generator
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC
    from allauth.account.utils import user_pk_to_url_str
    from allauth.mfa.models import Authenticator
    from allauth.usersessions.models import UserSession
    from django.contrib.auth.models import Group
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    from orders.links import guest_order_token, thread_link
    from orders.support import thread_open
    from privacy.audit.log import audit_log
    from privacy.consent import ledger as consent
    from privacy.models import (
        AccessLogEntry,
        ConsentRecord,
        Disclosure,
        Incident,
        LegalHold,
        MarketingSubscriber,
        PolicyVersion,
        PrivacyRequest,
        ProcessorDeletion,
        PurgeRun,
        Restriction,
    )
    from privacy.protection.crypto import email_index
    from privacy.rights import export
    from privacy.rights.subject_requests import request_open
    from shop.models import Category, Product, User

    now = timezone.now()
    product = ProductFactory(name="Orrery Lamp", slug="orrery-lamp", stock=50, image="products/orrery.png")
    media = settings.MEDIA_ROOT / "products"
    media.mkdir(parents=True, exist_ok=True)
    (media / "orrery.png").write_bytes(png_bytes())

    owner = UserFactory(email=OWNER["email"], name=OWNER["name"], phone=OWNER["phone"])
    other = UserFactory(email="ottilie.other@example.com", name="Ottilie Other")
    address = Address.objects.create(user=owner, label="Home", name=OWNER["name"], line1=OWNER["line1"],
                                     city="Quillsbury", postal_code="QB1 7ZZ", country="GB", phone=OWNER["phone"],
                                     is_default=True)
    Address.objects.create(user=other, name="Ottilie Other", line1="1 Elsewhere Road", city="Bath", country="GB")
    mine = dict(user=owner, email=OWNER["email"], shipping_name=OWNER["name"], shipping_line1=OWNER["line1"],
                shipping_city="Quillsbury", shipping_postal_code="QB1 7ZZ", shipping_country="GB",
                phone=OWNER["phone"])
    paid = OrderFactory(**mine, status=Order.Status.PAID, paid_at=now)
    delivered = OrderFactory(**mine, status=Order.Status.DELIVERED, paid_at=now - timedelta(days=5),
                             shipped_at=now - timedelta(days=4), delivered_at=now - timedelta(days=1))
    pending = OrderFactory(**mine, status=Order.Status.PENDING_PAYMENT)
    guest_order = OrderFactory(user=None, email=GUEST["email"], email_index=email_index(GUEST["email"]),
                               shipping_name=GUEST["name"], shipping_line1=GUEST["line1"], shipping_city="Dover",
                               shipping_country="GB", status=Order.Status.DELIVERED, delivered_at=now)
    OrderFactory(user=other, email=other.email, status=Order.Status.PAID, paid_at=now)

    thread = thread_open(subject="Lamp flickers", body="The lamp flickers when the moon is full.", user=owner,
                         order=paid, files=[SimpleUploadedFile("flicker.png", png_bytes(), content_type="image/png")])
    attachment = Attachment.objects.get(message__thread=thread)
    guest_thread = thread_open(subject="Parcel question", body="Has it left?", email=GUEST["email"])
    returned = ReturnRequest.objects.create(order=delivered, reason="Arrived with a dent in the base.")
    ReturnLine.objects.create(return_request=returned, order_line=delivered.lines.first(), quantity=1)

    question = request_open(kind="question", user=owner, message="What do you keep about me?", notify=False)
    guardian = request_open(kind="guardian", email="guardian.parent@guest.example", message="My child signed up.",
                            notify=False)
    guest_access = request_open(kind="access", email=GUEST["email"], notify=False)
    job = export.export_request(user=owner)
    export.export_build(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "ready"

    subscriber = MarketingSubscriber.objects.create(email=GUEST["email"], email_index=email_index(GUEST["email"]),
                                                    token="m" * 32)
    consent.record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=True, channel="dashboard", user=owner)
    consent_record = ConsentRecord.objects.filter(user=owner).first()
    restriction = Restriction.objects.create(user=owner, lifted_at=now)
    disclosure = Disclosure.objects.create(processor="email", purpose="order emails", fields=["order.email"],
                                           country="US", safeguard="SCC", subject_user=owner,
                                           reference=paid.reference)
    draft = PolicyVersion.objects.create(version="9.9-draft", title="Draft policy", body="Draft.", summary="Draft")
    incident = Incident.objects.create(title="Lost laptop", description="A laptop was lost.", categories=["contact"])
    deletion = ProcessorDeletion.objects.create(processor="stripe", reference="cus_x", subject_user_id=owner.pk,
                                                outcome="deleted")
    purge = PurgeRun.objects.create(status="finished")
    notification = Notification.objects.create(order=paid, kind=Notification.Kind.ORDER_CONFIRMED)
    webhook = WebhookEvent.objects.create(gateway="stripe", event_id="evt_1", type="payment_intent.succeeded")
    interval = IntervalSchedule.objects.create(every=10, period="minutes")
    crontab = CrontabSchedule.objects.create(minute="5")
    solar = SolarSchedule.objects.create(event="sunrise", latitude=51.5, longitude=0.1)
    clocked = ClockedSchedule.objects.create(clocked_time=now)
    task = PeriodicTask.objects.create(name="matrix-task", task="orders.tasks.notifications_sweep", interval=interval)
    owner_email = EmailAddress.objects.get(user=owner)
    session = UserSession.objects.create(user=owner, ip="203.0.113.0", session_key="s" * 32,
                                         user_agent="Firefox on Linux", created_at=now, last_seen_at=now)

    pending_user = UserFactory(email="pending.person@guest.example", verified=False)
    pending_address = EmailAddress.objects.get(user=pending_user)

    users = {"owner": owner, "other customer": other}
    for role in STAFF_ROLES:
        users[role] = staff_user(role)
    users["superuser"] = staff_user(None, is_superuser=True)
    audit_log(actor=users["Privacy officer"], action="view", model_label="orders.Order", object_ids=[paid.pk],
              subject_user_ids=[owner.pk])
    clients = {"anonymous": Client()}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)

    # The object whose change/history/delete pages each ModelAdmin is tried with.
    hold = hold_on(order=delivered)
    admin_objects = {
        Order: paid, ReturnRequest: returned, SupportThread: thread, Notification: notification,
        WebhookEvent: webhook, User: owner, Product: product, Category: product.category,
        Group: Group.objects.get(name="Catalogue"), ConsentRecord: consent_record, MarketingSubscriber: subscriber,
        Restriction: restriction, Disclosure: disclosure, PolicyVersion: draft, Incident: incident,
        ProcessorDeletion: deletion, PurgeRun: purge, AccessLogEntry: AccessLogEntry.objects.first(),
        IntervalSchedule: interval, CrontabSchedule: crontab, SolarSchedule: solar, ClockedSchedule: clocked,
        PeriodicTask: task, EmailAddress: owner_email, UserSession: session,
        Authenticator: Authenticator.objects.get(user=users["Fulfilment"]),
        PrivacyRequest: question, LegalHold: hold,
    }
    objects = {"product": product, "address": address, "paid": paid, "delivered": delivered, "pending": pending,
               "guest_order": guest_order, "thread": thread, "attachment": attachment, "guest_thread": guest_thread,
               "return": returned, "question": question, "guardian": guardian, "job": job, "draft": draft,
               "incident": incident, "subscriber": subscriber, "hold": hold}
    tokens = {
        "guest_order": guest_order_token(guest_order),
        "guest_thread": thread_link(guest_thread).rsplit("/", 2)[-2],
        "export_download": export.download_token(job),
        "subscriber": subscriber.token,
        "guest_export_confirm": guest_access.confirm_token,
        "guest_download": "d" * 32,
        "confirm_email": EmailConfirmationHMAC(pending_address).key,
        "reset_uid": user_pk_to_url_str(pending_user),
        "reset_key": default_token_generator.make_token(pending_user),
    }
    return World(clients=clients, users=users, objects=objects, tokens=tokens, admin_objects=admin_objects)


# --- expectations ---------------------------------------------------------------------------------

LOGIN = "login"      # a redirect to a sign-in page
REDIRECT = "302"     # any other redirect
OK, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 403, 404, 405


def has_perm(visitor: str, perm: str) -> bool:
    if visitor == "superuser":
        return True
    return perm in ROLES.get(visitor, [])


def is_staff(visitor: str) -> bool:
    return visitor in STAFF_ROLES or visitor == "superuser"


Expect = Callable[[str], set]


def everyone(*statuses) -> Expect:
    return lambda visitor: set(statuses)


def signed_in(anonymous: set, signed: set) -> Expect:
    return lambda visitor: anonymous if visitor == "anonymous" else signed


def owned(owner: set, anonymous: set) -> Expect:
    """The owner's page: theirs only. Anonymous: a 404 or sign in (as given); everybody else: 404."""
    return lambda visitor: owner if visitor == "owner" else (set(anonymous) if visitor == "anonymous" else {NOT_FOUND})


def self_page(signed: set = frozenset({OK})) -> Expect:
    return signed_in({LOGIN}, set(signed))


def staff_or_customer(*, staff: set, customer: set) -> Expect:
    return lambda visitor: {LOGIN} if visitor == "anonymous" else (set(staff) if is_staff(visitor) else set(customer))


def post_only(login_first: bool) -> Expect:
    return signed_in({LOGIN} if login_first else {NOT_ALLOWED}, {NOT_ALLOWED})


def admin_page(staff: Callable[[str], object]) -> Expect:
    """Customers and anonymous are sent to sign in; staff get staff(visitor)."""
    def expect(visitor):
        if not is_staff(visitor):
            return {LOGIN}
        result = staff(visitor)
        return set(result) if isinstance(result, (set, frozenset, tuple, list)) else {result}
    return expect


def granted(perm: str, yes=OK, no=FORBIDDEN) -> Expect:
    return admin_page(lambda v: yes if has_perm(v, perm) else no)


@dataclass
class Target:
    label: str           # URL name, plus a note in brackets where one name has several targets
    url: str
    expect: Expect
    route: str = ""      # the pattern this target covers
    fresh_client: bool = False  # the view signs the visitor out: use a throw-away session


@dataclass
class Matrix:
    targets: list[Target] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)

    def add(self, route: str, label: str, url: str, expect: Expect, **kw) -> None:
        self.targets.append(Target(label, url, expect, route=route, **kw))
        self.covered.add(route)


# --- site (non-admin) URLs: name -> (kwargs, expectation) -------------------------------------

def site_table(w: World) -> dict[str, tuple[dict, Expect]]:
    o, t = w.objects, w.tokens
    ref_paid, ref_pending, ref_delivered = o["paid"].reference, o["pending"].reference, o["delivered"].reference
    allauth_self = self_page({OK})
    return {
        # storefront, public
        "health": ({}, everyone(OK)),  # the proxy's health check: status only, nothing personal
        "favicon": ({}, everyone(REDIRECT)),  # /favicon.ico: to the static icon, for everyone
        "shop:home": ({}, everyone(OK)),
        "shop:product_list": ({}, everyone(OK)),
        "shop:product_detail": ({"slug": o["product"].slug}, everyone(OK)),
        "shop:cart": ({}, everyone(OK)),
        "shop:cart_add": ({}, everyone(NOT_ALLOWED)),
        "shop:cart_update": ({}, everyone(NOT_ALLOWED)),
        "shop:cart_remove": ({}, everyone(NOT_ALLOWED)),
        "orders:checkout": ({}, everyone(REDIRECT)),  # empty cart: back to the cart
        "orders:support": ({}, everyone(OK)),
        "orders:stripe_webhook": ({}, everyone(NOT_ALLOWED)),
        "privacy:policy": ({}, everyone(OK)),
        "privacy:version": ({"version": "1.0"}, everyone(OK)),
        "privacy:diff": ({"version": "1.0"}, everyone(OK)),
        "privacy:acknowledge": ({"version": "1.0"}, post_only(login_first=True)),
        "privacy:cookies": ({}, everyone(OK)),
        "privacy:gpc_json": ({}, everyone(OK)),  # /.well-known/gpc.json: the same for everyone
        "privacy:contact": ({}, everyone(OK)),
        "privacy:guest_export": ({}, everyone(OK)),
        "product_media": ({}, everyone(OK)),
        # the owner's own objects
        "orders:detail": ({"reference": ref_paid}, owned({OK}, {NOT_FOUND})),
        "orders:pay": ({"reference": ref_pending}, owned({OK}, {NOT_FOUND})),
        "orders:pay_offline": ({"reference": ref_pending}, everyone(NOT_ALLOWED)),
        "orders:payment_return": ({"reference": ref_paid}, owned({REDIRECT}, {NOT_FOUND})),
        "orders:thanks": ({"reference": ref_paid}, owned({OK}, {NOT_FOUND})),
        "orders:return": ({"reference": ref_delivered}, owned({OK}, {NOT_FOUND})),
        "account:address_edit": ({"pk": o["address"].pk}, owned({OK}, {LOGIN})),
        "account:address_delete": ({"pk": o["address"].pk}, post_only(login_first=True)),
        "account:address_default": ({"pk": o["address"].pk}, post_only(login_first=True)),
        "orders:thread": ({"pk": o["thread"].pk}, owned({OK}, {NOT_FOUND})),
        "orders:attachment": ({"pk": o["attachment"].pk}, owned({OK}, {NOT_FOUND})),
        "privacy:export_download": ({"signed": t["export_download"]}, owned({OK}, {LOGIN})),
        # "your account": whoever is signed in, their own data
        "account:center": ({}, self_page()),
        "account:profile": ({}, self_page()),
        "account:addresses": ({}, self_page()),
        "account:address_new": ({}, self_page()),
        "orders:mine": ({}, self_page()),
        "account:security": ({}, self_page()),
        "orders:threads": ({}, self_page()),
        "privacy:dashboard": ({}, self_page()),
        "privacy:delete_account": ({}, self_page()),
        "privacy:export_start": ({}, post_only(login_first=True)),
        "privacy:delete_account_cancel": ({}, post_only(login_first=True)),
        "privacy:restriction": ({}, post_only(login_first=True)),
        "privacy:consent_update": ({}, post_only(login_first=True)),
        "privacy:partial_erasure": ({"kind": "addresses"}, self_page()),  # GET: the confirmation page only
        "privacy:request_detail": ({"pk": o["question"].pk}, owned({OK}, {LOGIN})),
        # an erasure receipt's link: a token nobody here holds
        "privacy:erasure_receipt": ({"token": "r" * 32}, everyone(NOT_FOUND)),
        # bearer links from emails (the token is the credential; the holder here is the guest)
        "orders:guest_detail": ({"token": t["guest_order"]}, everyone(OK)),
        "orders:guest_return": ({"token": t["guest_order"]}, everyone(OK)),
        "orders:guest_thread": ({"token": t["guest_thread"]}, everyone(OK)),
        "privacy:marketing_confirm": ({"token": t["subscriber"]}, everyone(OK)),
        "privacy:unsubscribe": ({"token": t["subscriber"]}, everyone(OK)),
        "privacy:guest_export_confirm": ({"token": t["guest_export_confirm"]}, everyone(OK)),
        # only in the browser session that confirmed the guest export: nobody here did
        "privacy:guest_download": ({"token": t["guest_download"]}, everyone(NOT_FOUND)),
        # allauth's account pages
        "account_login": ({}, signed_in({OK}, {REDIRECT})),
        "account_logout": ({}, signed_in({REDIRECT}, {OK})),
        "account_inactive": ({}, everyone(OK)),
        "account_signup": ({}, signed_in({OK}, {REDIRECT})),
        "account_reauthenticate": ({}, allauth_self),
        "account_email": ({}, allauth_self),
        "account_email_verification_sent": ({}, everyone(OK)),
        "account_change_password": ({}, allauth_self),
        "account_set_password": ({}, self_page({REDIRECT})),  # everybody here has a password
        "account_reset_password": ({}, everyone(OK)),
        "account_reset_password_done": ({}, everyone(OK)),
        "account_reset_password_from_key_done": ({}, everyone(OK)),
        "account_confirm_login_code": ({}, signed_in({LOGIN}, {REDIRECT})),  # no login code pending
        "account_confirm_email": ({"key": t["confirm_email"]}, everyone(OK)),
        "account_reset_password_from_key": ({"uidb36": t["reset_uid"], "key": t["reset_key"]}, everyone(REDIRECT)),
        "mfa_index": ({}, allauth_self),
        "mfa_authenticate": ({}, signed_in({LOGIN}, {REDIRECT})),  # only during a sign-in
        # Staff have an authenticator app, customers none; changing MFA needs a fresh
        # reauthentication, which a test session (force_login) has not had: a redirect to it.
        "mfa_reauthenticate": ({}, staff_or_customer(staff={OK}, customer={REDIRECT})),
        "mfa_activate_totp": ({}, self_page({REDIRECT})),
        "mfa_deactivate_totp": ({}, staff_or_customer(staff={REDIRECT}, customer={NOT_FOUND})),
        "mfa_view_recovery_codes": ({}, self_page({NOT_FOUND})),
        "mfa_generate_recovery_codes": ({}, self_page({REDIRECT})),
        "mfa_download_recovery_codes": ({}, self_page({NOT_FOUND})),
        "usersessions_list": ({}, allauth_self),
    }


# --- admin URLs ------------------------------------------------------------------------------------

STANDARD_SUFFIXES = ("changelist", "add", "history", "delete", "change")


def superuser_request(w: World):
    request = RequestFactory().get("/")
    request.user = w.users["superuser"]
    return request


def in_role_queryset(model, obj, visitor: str) -> bool:
    """Whether the role's admin queryset holds obj (OrderAdmin shows Fulfilment paid orders only)."""
    if model is Order and not has_perm(visitor, "orders.view_all_orders"):
        return obj.status == Order.Status.PAID
    return True


def model_admin_expect(w: World, model, model_admin, view: str, obj) -> Expect:
    """Django's ModelAdmin views: the role's permission (from ROLES) within what the admin class
    allows anybody (read-only admins refuse add/change/delete even to a superuser)."""
    label, name = model._meta.app_label, model._meta.model_name
    req = superuser_request(w)
    can_view = model_admin.has_view_or_change_permission(req, obj)
    can_add = model_admin.has_add_permission(req)
    can_delete = model_admin.has_delete_permission(req, obj)

    def role_views(v):
        return has_perm(v, f"{label}.view_{name}") or has_perm(v, f"{label}.change_{name}")

    def staff(v):
        if view == "changelist":
            return OK if can_view and role_views(v) else FORBIDDEN
        if view == "add":
            return OK if can_add and has_perm(v, f"{label}.add_{name}") else FORBIDDEN
        if view == "change":  # Django checks the permission, then whether the role's queryset has it
            if not (can_view and role_views(v)):
                return FORBIDDEN
            return OK if in_role_queryset(model, obj, v) else REDIRECT  # "… doesn't exist" -> admin index
        if view == "history":  # the other way round
            if not in_role_queryset(model, obj, v):
                return REDIRECT
            return OK if can_view and role_views(v) else FORBIDDEN
        if view == "delete":
            if not (can_delete and has_perm(v, f"{label}.delete_{name}")):
                return FORBIDDEN
            return OK if in_role_queryset(model, obj, v) else REDIRECT
        if view == "redirect":
            return REDIRECT
        if view == "reveal":
            return OK if has_perm(v, "privacy.reveal_personal_data") else FORBIDDEN
        raise AssertionError(view)

    return admin_page(staff)


def admin_custom_table(w: World) -> dict[str, tuple[dict, Expect]]:
    """The shop's own admin views and the site-wide admin views."""
    o = w.objects
    app_perms: dict[str, set[str]] = {}
    for model in admin.site._registry:
        app_perms.setdefault(model._meta.app_label, set()).update(
            f"{model._meta.app_label}.{a}_{model._meta.model_name}" for a in ("view", "change", "add", "delete"))

    def app_index(app_label):
        return admin_page(lambda v: OK if any(has_perm(v, p) for p in app_perms[app_label]) else NOT_FOUND)

    order_ct = ContentType.objects.get_for_model(Order)
    return {
        "admin:index": ({}, admin_page(lambda v: OK)),
        # The two exceptions to "customers are sent to sign in": the admin's sign-in page refuses a
        # signed-in customer (allauth's secure_admin_login: 403), and its sign-out page sends
        # non-staff to the admin index (then to sign in); staff may sign out by POST only.
        "admin:login": ({}, lambda v: {LOGIN} if v == "anonymous" else ({REDIRECT} if is_staff(v) else {FORBIDDEN})),
        "admin:logout": ({}, lambda v: {NOT_ALLOWED} if is_staff(v) else {REDIRECT}),
        "admin:password_change": ({}, admin_page(lambda v: OK)),
        "admin:password_change_done": ({}, admin_page(lambda v: OK)),
        "admin:autocomplete": ({}, admin_page(lambda v: FORBIDDEN)),  # no field given
        "admin:jsi18n": ({}, admin_page(lambda v: OK)),
        # Django's "view on site" shortcut redirects any staff member, whatever their role, to the
        # object's public URL (for an order: /orders/<reference>/, itself a 404 for staff).
        "admin:view_on_site": ({"content_type_id": order_ct.pk, "object_id": o["paid"].pk},
                               admin_page(lambda v: REDIRECT)),
        "admin:app_list": (None, app_index),  # one target per app label, built below
        "admin:orders_statistics": ({}, granted("orders.view_statistics")),
        "admin:orders_order_ship": ({"pk": o["paid"].pk}, granted("orders.ship_order")),
        "admin:orders_order_deliver": ({"pk": o["paid"].pk}, granted("orders.deliver_order", yes=REDIRECT)),
        "admin:orders_order_refund_in_full": ({"pk": o["paid"].pk}, granted("orders.handle_return", yes=REDIRECT)),
        "admin:orders_return_step": ({"pk": o["return"].pk, "step": "refuse"}, granted("orders.handle_return")),
        "admin:orders_thread_reply": ({"pk": o["thread"].pk}, admin_page(lambda v: FORBIDDEN)),  # POST only
        "admin:orders_attachment": ({"pk": o["attachment"].pk}, granted("orders.reply_supportthread")),
        "admin:privacy_record_of_processing": ({}, granted("privacy.view_accesslogentry")),
        "admin:privacy_policyversion_publish": ({"pk": o["draft"].pk}, granted("privacy.change_policyversion")),
        "admin:privacy_legalhold_lift": ({"pk": o["hold"].pk}, granted("privacy.manage_legalhold")),
        "admin:privacy_request_extend": ({"pk": o["question"].pk}, granted("privacy.handle_privacyrequest")),
        "admin:privacy_request_refuse": ({"pk": o["question"].pk}, granted("privacy.handle_privacyrequest")),
        "admin:privacy_request_reply": ({"pk": o["question"].pk}, granted("privacy.handle_privacyrequest")),
        "admin:privacy_request_erase": ({"pk": o["guardian"].pk}, granted("privacy.handle_privacyrequest")),
        "admin:privacy_incident_step": ({"pk": o["incident"].pk, "step": "select"},
                                        admin_page(lambda v: FORBIDDEN)),  # POST only
        "admin:auth_user_password_change": ({"id": w.users["owner"].pk}, granted("shop.change_user")),
    }


# --- enumeration --------------------------------------------------------------------------------------

def walk(resolver=None, prefix: str = "", namespace: str = ""):
    """Every leaf pattern: (full route, qualified name or None, pattern)."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from walk(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield prefix + str(p.pattern), name, p


def admin_model_for(route: str):
    """(model, model_admin) whose admin URLs start this route, or (None, None)."""
    for model, model_admin in admin.site._registry.items():
        if route.startswith(f"{settings.ADMIN_URL}{model._meta.app_label}/{model._meta.model_name}/"):
            return model, model_admin
    return None, None


def build_matrix(w: World) -> Matrix:
    m = Matrix()
    site = site_table(w)
    # allauth signs whoever is signed in out when they open a password-reset or an
    # email-confirmation link (of another account): those get a throw-away session.
    fresh = {"account_reset_password_from_key", "account_confirm_email"}
    custom = admin_custom_table(w)
    o = w.objects
    for route, name, _pattern in walk():
        if route.startswith(settings.ADMIN_URL):
            model, model_admin = admin_model_for(route)
            view = next((s for s in STANDARD_SUFFIXES if name and name.endswith(f"_{s}")), None)
            if name == "admin:app_list":
                for app_label in sorted({mdl._meta.app_label for mdl in admin.site._registry}):
                    m.add(route, f"{name} [{app_label}]", reverse(name, kwargs={"app_label": app_label}),
                          custom[name][1](app_label))
            elif name in custom:
                kwargs, expect = custom[name]
                m.add(route, name, reverse(name, kwargs=kwargs), expect)
            elif name is None and route.endswith("(?P<url>.*)$"):
                m.add(route, "admin catch-all", f"/{settings.ADMIN_URL}no-such-page/",
                      admin_page(lambda v: NOT_FOUND))
            elif model is not None and (view or name is None or name.endswith("_reveal")):
                kind = view or ("reveal" if name else "redirect")
                obj = w.admin_objects.get(model)
                assert obj is not None or kind in ("changelist", "add"), f"no object of {model} for {route}"
                if kind in ("changelist", "add"):
                    url = reverse(name)
                elif kind == "redirect":
                    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                                  args=[obj.pk]).removesuffix("change/")
                else:
                    url = reverse(name, args=[obj.pk])
                label = name or f"admin:{model._meta.app_label}_{model._meta.model_name} [object url]"
                if model is Order and kind in ("change", "history", "delete", "reveal"):
                    label += " [paid order]"
                m.add(route, label, url, model_admin_expect(w, model, model_admin, kind, obj))
                if model is Order and kind == "change":  # and one outside Fulfilment's queue
                    m.add(route, f"{name} [delivered order]",
                          reverse(name, args=[o["delivered"].pk]),
                          model_admin_expect(w, model, model_admin, kind, o["delivered"]))
            continue
        key = name or ("product_media" if route.startswith("^media/") else None)
        if key in site:
            kwargs, expect = site[key]
            url = (f"/media/{w.objects['product'].image.name}" if key == "product_media"
                   else reverse(key, kwargs=kwargs))
            m.add(route, key, url, expect, fresh_client=key in fresh)
            if key in TOKEN_VIEWS:  # and the same link with its token altered
                param = TOKEN_VIEWS[key]
                bad = {**kwargs, param: tamper(kwargs[param])}
                m.add(route, f"{key} [tampered token]", reverse(key, kwargs=bad),
                      self_page({NOT_FOUND}) if key == "privacy:export_download" else everyone(NOT_FOUND))
    return m


# Views whose credential is a token in the URL (emailed links, signed downloads): param name.
TOKEN_VIEWS = {"orders:guest_detail": "token", "orders:guest_return": "token", "orders:guest_thread": "token",
               "privacy:marketing_confirm": "token", "privacy:unsubscribe": "token",
               "privacy:guest_export_confirm": "token", "privacy:export_download": "signed"}


def tamper(token: str) -> str:
    """The same token with one character of its signature (its end) changed."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


# --- running it ------------------------------------------------------------------------------------------

def classify(response) -> object:
    if response.status_code in (301, 302, 303, 307, 308):
        location = response["Location"].split("?")[0]
        logins = {reverse("account_login"), reverse("admin:login")}
        return LOGIN if location in logins else REDIRECT
    return response.status_code


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        data = b"".join(response.streaming_content)
    else:
        data = response.content
    return data.decode("utf-8", "replace")


@dataclass
class Cell:
    visitor: str
    label: str
    url: str
    expected: set
    got: object
    leaked: list[str]
    shown: list[str]  # the owner's values found in the page


def run_matrix(w: World) -> list[Cell]:
    matrix = build_matrix(w)
    cells = []
    for visitor in VISITORS:
        for target in matrix.targets:
            client = w.clients[visitor]
            if target.fresh_client:
                client = Client()
                if visitor != "anonymous":
                    client.force_login(w.users[visitor])
            response = client.get(target.url)
            got = classify(response)
            body = body_of(response)
            shown = [v for v in OWNER_VALUES if v in body]
            leaked = []
            if visitor != "owner":
                allowed = ALLOWED_UNMASKED.get((visitor, target.label), set())
                leaked = [v for v in shown if v not in allowed]
            cells.append(Cell(visitor, target.label, target.url, target.expect(visitor), got, leaked, shown))
    return cells


def failures(cells: list[Cell]) -> list[Cell]:
    return [c for c in cells if (isinstance(c.got, int) and c.got >= 500) or c.got not in c.expected or c.leaked]


def table(cells: list[Cell]) -> str:
    def show(s):
        return "/".join(sorted(str(x) for x in s))
    rows = [("visitor", "url name", "url", "expected", "got", "owner's data in the page")]
    rows += [(c.visitor, c.label, c.url[:70], show(c.expected), str(c.got), ", ".join(c.leaked)) for c in cells]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(widths[i]) for i, v in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


_CACHE: dict[str, list[Cell]] = {}


@pytest.fixture
def matrix_cells(db, settings, tmp_path):
    """The whole matrix, computed once per process (the database is rebuilt for each test, but
    the cells are plain data)."""
    if "cells" not in _CACHE:
        settings.PAYMENT_GATEWAY = "offline"
        started = time.monotonic()
        world = build_world()
        _CACHE["cells"] = run_matrix(world)
        _CACHE["seconds"] = [time.monotonic() - started]
    return _CACHE["cells"]


# --- the tests ---------------------------------------------------------------------------------------------

def test_every_url_pattern_is_in_the_matrix(db):
    world = build_world()
    matrix = build_matrix(world)
    missing = [f"{route}  (name: {name})" for route, name, _ in walk() if route not in matrix.covered]
    assert not missing, "URL patterns with no row in the authorization matrix:\n  " + "\n  ".join(missing)


def test_authorization_matrix(matrix_cells):
    bad = [c for c in failures(matrix_cells) if known_bug_of(c) is None]
    assert len({c.label for c in matrix_cells}) > 150  # really every pattern, not a sample
    assert not bad, (f"{len(bad)} of {len(matrix_cells)} cells are wrong "
                     f"(login = redirect to sign in, 302 = another redirect):\n" + table(bad))


# Pages where the owner must see their own values: proves the leak check looks at real pages.
OWNER_SEES = {"orders:detail": {OWNER["name"], OWNER["line1"]}, "orders:thanks": {OWNER["name"]},
              "account:address_edit": {OWNER["line1"]}, "account:profile": {OWNER["name"]},
              "privacy:dashboard": {OWNER["name"], OWNER["email"]}}


def test_the_owner_sees_their_data_and_the_allow_list_is_exact(matrix_cells):
    by_key = {(c.visitor, c.label): c for c in matrix_cells}
    for label, values in OWNER_SEES.items():
        assert values <= set(by_key[("owner", label)].shown), label
    for key, allowed in ALLOWED_UNMASKED.items():
        assert set(by_key[key].shown) == allowed, (key, by_key[key].shown)


# --- beyond GET: the reveal, and state changes on somebody else's objects ------------------------------------

@pytest.fixture
def owners_things(db):
    owner = UserFactory(email=OWNER["email"], name=OWNER["name"], phone=OWNER["phone"])
    mine = dict(user=owner, email=OWNER["email"], shipping_name=OWNER["name"], shipping_line1=OWNER["line1"],
                shipping_city="Quillsbury", shipping_country="GB", phone=OWNER["phone"])
    from orders.support import thread_open

    return {
        "owner": owner,
        "address": Address.objects.create(user=owner, name=OWNER["name"], line1=OWNER["line1"], city="Quillsbury",
                                          country="GB", is_default=True),
        "paid": OrderFactory(**mine, status=Order.Status.PAID, paid_at=timezone.now()),
        "pending": OrderFactory(**mine, status=Order.Status.PENDING_PAYMENT),
        "delivered": OrderFactory(**mine, status=Order.Status.DELIVERED, delivered_at=timezone.now()),
        "thread": thread_open(subject="Lamp", body="It flickers.", user=owner),
    }


def visitor_client(visitor: str) -> Client:
    client = Client()
    if visitor == "other customer":
        client.force_login(UserFactory())
    elif visitor == "superuser":
        client.force_login(staff_user(None, is_superuser=True))
    elif visitor in STAFF_ROLES:
        client.force_login(staff_user(visitor))
    return client


@pytest.mark.promise("P12")
@pytest.mark.parametrize("visitor", [v for v in VISITORS if v != "owner"])
def test_reveal_shows_values_only_to_the_privacy_officer_after_a_post(owners_things, visitor):
    """The second half of ALLOWED_UNMASKED: the reveal page, after a POST with a reason."""
    client = visitor_client(visitor)
    url = reverse("admin:orders_order_reveal", args=[owners_things["paid"].pk])
    response = client.post(url, {"reason": "Customer called about ticket 4711, confirming the address"})
    body = response.content.decode()
    if has_perm(visitor, "privacy.reveal_personal_data"):
        assert response.status_code == 200
        assert {OWNER["name"], OWNER["line1"], OWNER["email"], OWNER["phone"]} <= {v for v in OWNER_VALUES if v in body}
    else:
        assert classify(response) == (FORBIDDEN if is_staff(visitor) else LOGIN), visitor
        assert not [v for v in OWNER_VALUES if v in body]


def changes_to(o) -> list[tuple[str, dict]]:
    address_data = {"label": "Hacked", "name": "Mallory", "line1": "1 Evil Street", "line2": "", "city": "Nowhere",
                    "postal_code": "NW1 6XE", "region": "", "country": "GB", "phone": ""}  # a UK address needs one
    return [
        (reverse("account:address_edit", args=[o["address"].pk]), address_data),
        (reverse("account:address_default", args=[o["address"].pk]), {}),
        (reverse("orders:pay_offline", args=[o["pending"].reference]), {}),
        (reverse("orders:return", args=[o["delivered"].reference]),
         {f"line_{o['delivered'].lines.first().pk}": 1, "reason": "Mallory wants a refund"}),
        (reverse("orders:thread", args=[o["thread"].pk]), {"message": "Mallory was here"}),
        (reverse("account:address_delete", args=[o["address"].pk]), {}),
    ]


def test_the_same_changes_work_for_the_owner(owners_things):
    """The control for the test below: the very same POSTs are valid and do change things."""
    o = owners_things
    client = Client()
    client.force_login(o["owner"])
    for url, data in changes_to(o):
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.status_code, response.content.decode()[:500])
    assert not Address.objects.filter(pk=o["address"].pk).exists()
    assert Order.objects.get(pk=o["pending"].pk).status == Order.Status.PAID
    assert ReturnRequest.objects.filter(order=o["delivered"]).exists()
    assert o["thread"].messages.count() == 2


@pytest.mark.parametrize("visitor", [v for v in VISITORS if v != "owner"])
def test_nobody_but_the_owner_changes_the_owners_things(owners_things, visitor):
    """POSTs to the owner's address, order, return and conversation: 404 (or sign in) for
    everybody else, and nothing changes."""
    o = owners_things
    client = visitor_client(visitor)
    attempts = changes_to(o)
    for url, data in attempts:
        response = client.post(url, data)
        expected = {NOT_FOUND} if visitor != "anonymous" else {NOT_FOUND, LOGIN}
        assert classify(response) in expected, (visitor, url, response.status_code)
        assert not [v for v in OWNER_VALUES if v in response.content.decode()]
    address = Address.objects.get(pk=o["address"].pk)
    assert (address.line1, address.label, address.is_default) == (OWNER["line1"], "", True)
    assert Order.objects.get(pk=o["pending"].pk).status == Order.Status.PENDING_PAYMENT
    assert not ReturnRequest.objects.filter(order=o["delivered"]).exists()
    assert o["thread"].messages.count() == 1
