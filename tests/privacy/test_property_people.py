"""One property over export and erasure (P17), with random people.

Hypothesis builds two or three people, accounts and guests, each with any of: orders (some under
a legal hold), a closed return, a customer-service conversation with an attachment, consents, a
marketing subscription, a privacy request, signed-in sessions, saved addresses, and for accounts
possibly a legal hold on the whole person. Every personal value of a person carries that
person's own tag, so a scan can tell whose a value is. Then, for one of them:

- their export holds every value of theirs and no value of anyone else;
- after their erasure, a scan of every table (raw SQL over every column, plus the encrypted
  fields decrypted through the ORM) and of every stored file finds none of their values,
  except in the rows a legal hold keeps, which keep them whole; a hold on the whole person
  stops the erasure and nothing changes;
- everyone else's data is unchanged: their exports are the same, and their files are all there.

Every example runs in its own transaction, rolled back at its end.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

import pytest
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections, router
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from orders.models import Attachment, Order, ReturnLine, ReturnRequest
from orders.support import thread_open
from privacy.consent import ledger as consent
from privacy.models import ConsentRecord, MarketingSubscriber
from privacy.protection.crypto import email_index
from privacy.registry import declarations as registry
from privacy.rights.erasure import ErasureBlocked, erase_subject
from privacy.rights.export import export_document
from privacy.rights.partial import partial_erase
from privacy.rights.subject_requests import request_open
from shop.models import Address
from tests.factories import OrderFactory, UserFactory
from tests.fuzz.hostile import fuzz, isolated
from tests.private_files import attachment_exists, stored_files
from tests.uploads import png_bytes

pytestmark = pytest.mark.django_db

# No hexadecimal letters and no digits: a tag never turns up by chance in a hash, token or id.
TAG_LETTERS = "ghjkmnpqrstvwxyz"
MARKERS = "ghj"  # one per person, so no tag is part of another's


@dataclass
class Plan:
    account: bool
    orders: int
    held_orders: int  # how many of the orders a legal hold covers
    returned: bool
    conversation: bool
    consents: bool
    marketing: bool
    request: bool
    sessions: int
    addresses: int
    person_hold: bool


plans = st.builds(
    Plan, account=st.booleans(), orders=st.integers(0, 2), held_orders=st.integers(0, 1), returned=st.booleans(),
    conversation=st.booleans(), consents=st.booleans(), marketing=st.booleans(), request=st.booleans(),
    sessions=st.integers(0, 2), addresses=st.integers(0, 2), person_hold=st.booleans(),
)
people = st.lists(st.tuples(plans, st.text(TAG_LETTERS, min_size=8, max_size=8)), min_size=2, max_size=3)


@dataclass
class Person:
    tag: str
    user: object | None
    email: str
    values: set[str] = field(default_factory=set)  # every personal value stored for them
    held_order_ids: set[int] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    person_hold: bool = False
    # the values that only one kind of partial erasure removes
    kind_values: dict[str, set[str]] = field(
        default_factory=lambda: {"addresses": set(), "conversations": set(), "sessions": set()})

    def export(self) -> dict:
        doc = export_document(user=self.user, email="" if self.user else self.email)
        doc.pop("generated_at")
        return doc


def build(plan: Plan, tag: str) -> Person:
    """One person as the shop would hold them, every value carrying `tag`."""
    email = f"{tag}@example.com"
    name, phone, line1, city = f"Name {tag}", f"+44 20 {tag}", f"1 {tag} Road", f"City {tag}"
    user = UserFactory(email=email, name=name, phone=phone) if plan.account else None
    person = Person(tag=tag, user=user, email=email)
    if user is not None:
        person.values |= {email, name, phone}
    for i in range(plan.addresses if user else 0):
        line, town = f"{i} {tag} Lane", f"Town {i} {tag}"
        Address.objects.create(user=user, name=name, line1=line, city=town, postal_code="N1 1AA", country="GB")
        person.values |= {name, line, town}
        person.kind_values["addresses"] |= {line, town}
    orders = [OrderFactory(user=user, email=email, email_index=email_index(email), shipping_name=name,
                           shipping_line1=line1, shipping_city=city, phone=phone, status=Order.Status.COMPLETED,
                           completed_at=timezone.now()) for _ in range(plan.orders)]
    if orders:
        person.values |= {email, name, line1, city, phone}
    from tests.legal_holds import hold_on

    for order in orders[:plan.held_orders]:
        hold_on(order=order)
        person.held_order_ids.add(order.pk)
    if plan.returned and orders:
        reason = f"Returned because {tag} arrived broken"
        returned = ReturnRequest.objects.create(order=orders[-1], reason=reason, status="refunded")
        ReturnLine.objects.create(return_request=returned, order_line=orders[-1].lines.first(), quantity=1)
        person.values.add(reason)
    if plan.conversation:
        body, file_name = f"Question about {tag} please", f"photo-{tag}.png"
        thread = thread_open(subject="A question", body=body, user=user, email=email,
                             order=orders[0] if orders else None,
                             files=[SimpleUploadedFile(file_name, png_bytes(), content_type="image/png")])
        person.values |= {email, body, file_name}
        person.kind_values["conversations"] |= {body, file_name}
        person.files += list(Attachment.objects.filter(message__thread=thread).values_list("file_name", flat=True))
    if plan.consents and user is not None:
        consent.record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=True, channel="dashboard", user=user)
    if plan.marketing:
        MarketingSubscriber.objects.create(user=user, email=email, email_index=email_index(email),
                                           token=secrets.token_hex(16))
        person.values.add(email)
    if plan.request:
        message = f"What do you keep about {tag}?"
        request_open(kind="question", user=user, email="" if user else email, message=message, notify=False)
        person.values |= {email, message}
    for i in range(plan.sessions if user else 0):
        store = SessionStore()
        store["_auth_user_id"] = str(user.pk)
        store.create()
        agent = f"Browser {i} {tag}"
        UserSession.objects.create(user=user, session_key=store.session_key, ip="192.0.2.0", user_agent=agent,
                                   last_seen_at=timezone.now())
        person.values.add(agent)
        person.kind_values["sessions"].add(agent)
    if plan.person_hold and user is not None:
        hold_on(user=user)
        person.person_hold = True
    return person


def scan(values: set[str], settings) -> list[tuple[str, object, str]]:
    """Where any of `values` is stored: (table, row pk, value) for every row of every table, raw
    over all its columns and decrypted through the ORM; (file path, None, value) for files."""
    lowered = {v: v.lower() for v in values}
    found = []
    for model in apps.get_models():
        table, pk_column = model._meta.db_table, model._meta.pk.column
        db = connections[router.db_for_read(model)]  # the key store's tables live in their own database
        with db.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
        for row in rows:
            text = repr(row).lower()
            pk = row[columns.index(pk_column)] if pk_column in columns else None
            found += [(table, pk, v) for v, low in lowered.items() if low in text]
        encrypted = [f.name for f in model._meta.concrete_fields if registry.encrypted_at_rest(f)]
        if encrypted:
            for pk, *plain in model._base_manager.values_list("pk", *encrypted):
                text = repr(plain).lower()
                found += [(table, pk, v) for v, low in lowered.items() if low in text]
    for path, data in stored_files():
        found += [(str(path), None, v) for v, low in lowered.items() if low.encode() in data.lower()]
    return found


@pytest.mark.promise("P17")
@pytest.mark.promise("P13")
@fuzz(max_examples=15)
@given(crowd=people, pick=st.integers(0, 2))
def test_export_holds_all_of_a_person_and_erasure_leaves_none_of_them_and_nobody_else_changes(
        crowd, pick, settings, db):
    with isolated():
        everyone = [build(plan, MARKERS[i] + "x" + letters) for i, (plan, letters) in enumerate(crowd)]
        chosen = everyone[pick % len(everyone)]
        others = [p for p in everyone if p is not chosen]
        others_values = set().union(*(p.values for p in others))

        # The export: all of theirs, nothing of anyone else's.
        dumped = json.dumps(chosen.export(), ensure_ascii=False, default=str).lower()
        assert {v for v in chosen.values if v.lower() not in dumped} == set()
        assert {v for v in others_values if v.lower() in dumped} == set()

        before = {p.tag: p.export() for p in everyone}
        assert {v for _, _, v in scan(chosen.values, settings)} == chosen.values  # the scan sees them

        try:
            erase_subject(user=chosen.user, email="" if chosen.user else chosen.email)
        except ErasureBlocked:  # a legal hold on the whole person: the erasure waits, nothing changes
            assert chosen.person_hold
            assert {p.tag: p.export() for p in everyone} == before
            return
        assert not chosen.person_hold

        # None of their values is left anywhere, except in the orders a legal hold keeps.
        order_table = Order._meta.db_table
        left = [(where, pk, v) for where, pk, v in scan(chosen.values, settings)
                if not (where == order_table and pk in chosen.held_order_ids)]
        assert left == []
        for held in Order.objects.filter(pk__in=chosen.held_order_ids):  # kept whole while the hold lasts
            assert (held.email, held.shipping_name) == (chosen.email, f"Name {chosen.tag}")
        assert not any(attachment_exists(name) for name in chosen.files)

        # Everyone else: unchanged.
        assert {p.tag: p.export() for p in others} == {p.tag: before[p.tag] for p in others}
        assert all(attachment_exists(name) for p in others for name in p.files)
        assert {v for _, _, v in scan(others_values, settings)} == others_values


@pytest.mark.promise("P17")
@fuzz(max_examples=10)
@given(crowd=people, pick=st.integers(0, 2),
       kind=st.sampled_from(["browsing", "addresses", "conversations", "marketing", "sessions"]))
def test_deleting_one_kind_takes_exactly_that_kind_of_one_person(crowd, pick, kind, settings, db):
    """Partial erasure of a random kind for a random account holder: that kind's values and files
    are gone; every other value of theirs and everyone else's data are as before."""
    with isolated():
        crowd = [(Plan(**{**plan.__dict__, "account": True}) if i == 0 else plan, letters)
                 for i, (plan, letters) in enumerate(crowd)]  # at least one account
        everyone = [build(plan, MARKERS[i] + "x" + letters) for i, (plan, letters) in enumerate(crowd)]
        accounts = [p for p in everyone if p.user is not None]
        chosen = accounts[pick % len(accounts)]
        others = [p for p in everyone if p is not chosen]
        # A legal hold on the whole person keeps every kind: the request is refused, nothing goes.
        gone = set() if chosen.person_hold else chosen.kind_values.get(kind, set())
        stays = set().union(*(p.values for p in everyone)) - gone
        before = {p.tag: p.export() for p in everyone}

        case, outcome = partial_erase(user=chosen.user, kind=kind)

        assert case.scope == kind
        assert case.status == ("refused" if chosen.person_hold else "completed")
        assert outcome.deleted == {} or not chosen.person_hold
        assert [v for _, _, v in scan(gone, settings)] == []
        assert {v for _, _, v in scan(stays, settings)} == stays
        if kind == "conversations" and not chosen.person_hold:
            assert not any(attachment_exists(name) for name in chosen.files)
        assert all(attachment_exists(name) for p in others for name in p.files)
        assert {p.tag: p.export() for p in others} == {p.tag: before[p.tag] for p in others}
        touched = set(outcome.deleted) | {"privacy.PrivacyRequest"}  # its own record is filed
        if kind == "marketing" and not chosen.person_hold:
            touched.add("privacy.ConsentRecord")  # the withdrawal, kept as proof
        after = chosen.export()["models"]
        assert {label: data for label, data in after.items() if label not in touched} == \
            {label: data for label, data in before[chosen.tag]["models"].items() if label not in touched}
        for label in outcome.deleted:
            assert after[label]["records"] == []  # no session is kept: none was this request's
