"""Fuzz returns and customer service: the return request form, the support form (with no,
odd and hostile files) and replies in a conversation."""
from __future__ import annotations

import os

import pytest
from django import forms
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.urls import reverse
from hypothesis import event, example, given
from hypothesis import strategies as st

from orders import support
from orders.models import Attachment, ReturnRequest, SupportMessage, SupportThread
from privacy.protection.emailaddr import EmailAddressField
from tests.fuzz.hostile import (
    MARKUP,
    PDF,
    assert_no_raw_markup,
    assert_not_5xx,
    assert_shown_escaped,
    assert_unchanged,
    claims_too_many_pixels,
    clean_text,
    field,
    file_content,
    file_name,
    form,
    fuzz,
    hostile_email,
    hostile_number,
    hostile_text,
    isolated,
    last,
    mutated,
    png,
    snapshot,
    stored_attachment_files,
)

pytestmark = pytest.mark.django_db


# --- returns ----------------------------------------------------------------------------------

def quantity():
    return st.one_of(st.sampled_from(["0", "1", "2", "3", "", "-1", "01", " 1", "1.0", "2.5"]), hostile_number())


@fuzz(60)
@given(data=st.data())
def test_return_request_is_whole_or_nothing(member, customer_service, delivered_order, data):
    lamp, mug = sorted(delivered_order.lines.all(), key=lambda l: l.product_name)[::-1]  # Fuzz Mug, Fuzz Lamp
    lamp, mug = (lamp, mug) if lamp.product_name == "Fuzz Lamp" else (mug, lamp)
    available = {lamp.pk: 2, mug.pk: 1}
    fields = {f"line_{lamp.pk}": field(quantity()), f"line_{mug.pk}": field(quantity()),
              f"line_{lamp.pk + 1000}": field(quantity()), "line_x": field(quantity()),
              "reason": field(st.one_of(st.just("Too bright"), st.sampled_from(MARKUP), hostile_text()))}
    base = {f"line_{lamp.pk}": "1", "reason": "Too bright"}
    body = data.draw(st.one_of(form(**fields), mutated(base, **fields)), label="POST")
    url = reverse("orders:return", args=[delivered_order.reference])
    with isolated():
        before = snapshot()
        response = member.post(url, body)
        assert_not_5xx(response, f"return {body!r}")
        wanted, valid = {}, True
        for pk, limit in available.items():
            value = last(body, f"line_{pk}")
            if value in (None, ""):
                continue
            if value not in {str(n) for n in range(limit + 1)}:
                valid = False
            elif int(value):
                wanted[pk] = int(value)
        reason = clean_text(last(body, "reason"), max_length=1000, required=True)
        accepted = bool(body) and valid and reason is not None and bool(wanted)
        event("accepted" if accepted else f"refused ({response.status_code})")
        if not accepted:
            assert response.status_code == (400 if body else 200), f"return accepted {body!r}"
            assert_no_raw_markup(response, "the refused return form")
            assert_unchanged(before, f"by a refused return {body!r}")
            return
        assert response.status_code == 302, f"a valid return was refused: {body!r}"
        req = ReturnRequest.objects.get()
        assert req.reason == reason, "the reason was not stored exactly"
        assert dict(req.lines.values_list("order_line_id", "quantity")) == wanted
        assert_no_raw_markup(member.get(delivered_order.get_absolute_url()), "the order page")
        admin = customer_service.get(reverse("admin:orders_returnrequest_change", args=[req.pk]))
        assert admin.status_code == 200
        page = assert_no_raw_markup(admin, "the admin return page")
        assert_shown_escaped(page, reason, "the admin return page (customer service)")


# --- customer service -------------------------------------------------------------------------

def uploads():
    """0-4 files: real, empty, fake, hostile names and types. Files whose header claims more
    pixels than Pillow allows are BUG 2 (test_known_bugs.py) and replaced by a real PNG here."""
    one = st.tuples(file_name(), file_content().map(lambda b: png() if claims_too_many_pixels(b) else b),
                    st.sampled_from(["image/png", "application/pdf", "text/html", "application/x-msdownload", ""]))
    return st.lists(one, max_size=4)


def as_files(specs):
    return [SimpleUploadedFile(name, content, content_type=kind or "application/octet-stream")
            for name, content, kind in specs]


def arriving(specs):
    """The files Django hands to the view: the test client sends the base name (cut to 255
    characters); Django's multipart parser drops a file whose name has no printable character
    left ("\u202e" alone) — Django's behaviour, not the shop's."""
    out = []
    for name, content, kind in specs:
        sent = SimpleUploadedFile(name, b"").name
        if MultiPartParser.sanitize_file_name(None, os.path.basename(sent)):
            out.append((name, content, kind))
    return out


def headers_fit(specs) -> bool:
    """Django refuses (400) a multipart part whose headers exceed 1 KiB: very long file names."""
    return all(len(SimpleUploadedFile(n, b"").name.encode()) < 800 for n, _, _ in specs)


def clearly_bad(content: bytes) -> bool:
    return not content or not content.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF-", b"RIFF"))


def check_attachments(message: SupportMessage, specs) -> None:
    stored = sorted(support.attachment_read(a) for a in message.attachments.all())
    assert stored == sorted(content for _, content, _ in specs), "attachments not stored exactly"


SUPPORT = {"email": "guest@example.com", "order_reference": "", "subject": "Scratched lamp",
           "message": "It arrived scratched."}
SUPPORT_FIELDS = dict(
    email=field(st.one_of(st.just("guest@example.com"), hostile_email())),
    order_reference=field(st.one_of(st.just("REF"), hostile_text())),
    subject=field(st.one_of(st.sampled_from(MARKUP), hostile_text())),
    message=field(st.one_of(st.sampled_from(MARKUP), hostile_text())),
)


@fuzz(80)
@given(who=st.sampled_from(["guest", "member"]), files=uploads(),
       body=st.one_of(form(**SUPPORT_FIELDS), mutated(SUPPORT, **SUPPORT_FIELDS)))
@example(who="member", files=[('"><img src=x onerror=alert(fz)>.png', png(), "image/png")],
         body={**SUPPORT, "subject": '</title><img src=x onerror=alert(fz)>', "message": "<fz-tag>\n\nx"})
@example(who="guest", files=[("a.png", png(), "image/png")] * 4, body=SUPPORT)
@example(who="guest", files=[("fake.png", b"<script>alert(1)</script>", "image/png")], body=SUPPORT)
@example(who="guest", files=[("empty.pdf", b"", "application/pdf")], body=SUPPORT)
@example(who="guest", files=[("a" * 10_001 + ".png", png(), "image/png")], body=SUPPORT)
def test_support_form_opens_one_whole_thread_or_nothing(anon, member, customer_service, delivered_order, who,
                                                        files, body):
    client = anon if who == "guest" else member
    body = {k: ([delivered_order.reference if x == "REF" else x for x in v] if isinstance(v, list)
                else delivered_order.reference if v == "REF" else v) for k, v in body.items()}
    with isolated(*([anon] if who == "guest" else [])):
        before, files_before = snapshot(), stored_attachment_files()
        response = client.post(reverse("orders:support"), {**body, "files": as_files(files)})
        assert_not_5xx(response, f"support {body!r} files={[(n, c[:40]) for n, c, _ in files]!r}")
        subject = clean_text(last(body, "subject"), max_length=160, required=True)
        message = clean_text(last(body, "message"), max_length=5000, required=True)
        reference = clean_text(last(body, "order_reference"), max_length=12, required=False)
        try:
            email = EmailAddressField(max_length=254).clean(last(body, "email")) if who == "guest" else None
        except forms.ValidationError:
            email = "invalid"
        sent = arriving(files)
        must_refuse = (None in (subject, message, reference) or email == "invalid" or len(sent) > 3
                       or any(clearly_bad(content) for _, content, _ in sent))
        must_accept = (not must_refuse and bool(body) and headers_fit(files)
                       and all(content in (png(), PDF) for _, content, _ in sent))
        created = SupportThread.objects.count() > before["orders.SupportThread"]
        event(f"{who}: {'accepted' if created else 'refused'} with {len(files)} file(s)")
        assert stored_attachment_files() - files_before == Attachment.objects.count() - before["orders.Attachment"], \
            "attachment files on disk and rows disagree (a partial write)"
        if not created:
            assert not must_accept, f"a valid message was refused ({response.status_code}): {body!r}"
            assert response.status_code in (200, 400)
            assert_no_raw_markup(response, "the refused support form")
            assert_unchanged(before, f"by a refused support message {body!r}")
            return
        assert not must_refuse, f"support accepted {body!r} with files {sent!r}"
        thread = SupportThread.objects.get()
        message_ = thread.messages.get()
        assert (thread.subject, message_.body) == (subject, message), "not stored exactly"
        assert thread.email == (email if who == "guest" else member.user.email)
        check_attachments(message_, sent)
        if who == "member":
            assert response.status_code == 302
            page = assert_no_raw_markup(member.get(response["Location"]), "the conversation")
            assert_shown_escaped(page, subject, "the conversation")
            for a in message_.attachments.all():
                assert_shown_escaped(page, a.original_name, "the conversation")
        else:
            assert response.status_code == 200
            assert_no_raw_markup(response, "the guest confirmation")
        admin = customer_service.get(reverse("admin:orders_supportthread_change", args=[thread.pk]))
        assert admin.status_code == 200
        page = assert_no_raw_markup(admin, "the admin conversation")
        assert_shown_escaped(page, subject, "the admin conversation (customer service)")


@pytest.fixture
def threads(member):
    mine = support.thread_open(subject="Lamp", body="It flickers.", user=member.user)
    guest = support.thread_open(subject="Mug", body="Chipped.", email="guest@example.com")
    token = signing.dumps(guest.token, salt="orders.support-thread")
    return {"member": (mine, reverse("orders:thread", args=[mine.pk])),
            "guest": (guest, reverse("orders:guest_thread", args=[token]))}


@fuzz(60)
@given(who=st.sampled_from(["guest", "member"]), files=uploads(),
       body=form(message=field(st.one_of(st.just("Any news?"), st.sampled_from(MARKUP), hostile_text()))))
@example(who="guest", files=[("<fz-tag>.pdf", PDF, "application/pdf")],
         body={"message": '<script>alert("fz")</script>'})
@example(who="member", files=[], body={"message": "\x00"})
def test_support_reply_adds_one_whole_message_or_nothing(anon, member, threads, who, files, body):
    client = anon if who == "guest" else member
    thread, url = threads[who]
    with isolated(*([anon] if who == "guest" else [])):
        before, files_before = snapshot(), stored_attachment_files()
        response = client.post(url, {**body, "files": as_files(files)})
        assert_not_5xx(response, f"reply {body!r} files={[(n, c[:40]) for n, c, _ in files]!r}")
        message = clean_text(last(body, "message"), max_length=5000, required=True)
        sent = arriving(files)
        must_refuse = message is None or len(sent) > 3 or any(clearly_bad(c) for _, c, _ in sent)
        created = SupportMessage.objects.count() > before["orders.SupportMessage"]
        event(f"{who}: {'accepted' if created else 'refused'}")
        assert stored_attachment_files() - files_before == Attachment.objects.count() - before["orders.Attachment"]
        if not created:
            assert_no_raw_markup(response, "the refused reply form")
            assert_unchanged(before, f"by a refused reply {body!r}")
            return
        assert not must_refuse, f"reply accepted {body!r} with files {sent!r}"
        assert response.status_code == 302
        new = thread.messages.order_by("-pk").first()
        assert new.body == message and not new.from_staff
        check_attachments(new, sent)
        assert SupportThread.objects.get(pk=thread.pk).status == "open"
        page = assert_no_raw_markup(client.get(url), "the conversation")
        for a in new.attachments.all():
            assert_shown_escaped(page, a.original_name, "the conversation")
