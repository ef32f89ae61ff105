"""A clock per jurisdiction (P18): requests are filed now (never on a fixed date) by people in
the EU, in California and elsewhere; the strictest applicable clock sets each deadline, which is
stored, shown to staff and to the person, followed by the reminders, and extended only with a
reason and only as far as every applicable rule allows. Working days skip weekends and holidays."""
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from privacy.models import PrivacyRequest
from privacy.registry.workdays import add_working_days, is_working_day
from privacy.rights.clocks import add_months
from privacy.rights.subject_requests import RequestError, remind_staff, request_extend, request_open
from shop.models import Address
from tests.factories import UserFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.promise("P18")]


def at_time_of(received: datetime, day) -> datetime:
    """`day` at the time of day the request arrived: deadlines run to the minute."""
    return timezone.make_aware(datetime.combine(day, received.time().replace(tzinfo=None)), received.tzinfo)


def policy_answer(received: datetime, settings) -> datetime:
    return min(received + timedelta(days=settings.PRIVACY_REQUEST_DAYS),
               at_time_of(received, add_working_days(received.date(), settings.PRIVACY_REQUEST_MAX_WORKING_DAYS)))


def test_an_eu_resident_gets_the_stricter_of_one_month_and_our_policy(settings):
    req = request_open(kind="access", email="ana@example.com", jurisdiction="FR", notify=False)
    month = at_time_of(req.received_at, add_months(req.received_at.date(), 1))
    policy = policy_answer(req.received_at, settings)
    assert req.due_at == min(month, policy) == req.answer_by
    assert req.clock == ("gdpr" if month <= policy else "policy")
    assert req.acknowledge_by is None  # the GDPR sets no acknowledgement deadline
    stored = PrivacyRequest.objects.get()
    assert (stored.jurisdiction, stored.clock, stored.due_at) == ("FR", req.clock, req.due_at)


def test_where_our_policy_is_looser_the_gdpr_month_governs(settings):
    settings.PRIVACY_REQUEST_DAYS = 60
    settings.PRIVACY_REQUEST_MAX_WORKING_DAYS = 60
    eu = request_open(kind="access", email="jan@example.com", jurisdiction="NL", notify=False)
    uk = request_open(kind="access", email="tom@example.com", jurisdiction="GB", notify=False)
    elsewhere = request_open(kind="access", email="kenji@example.com", jurisdiction="JP", notify=False)
    for req in (eu, uk):
        assert req.clock == "gdpr"
        assert req.due_at == at_time_of(req.received_at, add_months(req.received_at.date(), 1))
    assert elsewhere.clock == "policy" and elsewhere.due_at == elsewhere.received_at + timedelta(days=60)


def test_a_californian_from_their_saved_address_must_be_acknowledged_within_10_business_days(settings):
    settings.PRIVACY_REQUEST_DAYS = 60
    settings.PRIVACY_REQUEST_MAX_WORKING_DAYS = 100  # our policy looser than the CCPA, to see the CCPA govern
    user = UserFactory()
    Address.objects.create(user=user, name="Cal", line1="1 Main St", city="Fresno", region="CA", country="US",
                           is_default=True)
    req = request_open(kind="erasure", user=user, notify=False)
    assert req.jurisdiction == "US-CA" and req.clock == "ccpa"
    assert req.acknowledge_by == at_time_of(req.received_at, add_working_days(req.received_at.date(), 10))
    assert req.due_at == req.received_at + timedelta(days=45)
    assert req.answer_limit == req.received_at + timedelta(days=90)


def test_with_the_default_policy_a_californian_is_answered_by_our_stricter_clock(settings):
    req = request_open(kind="access", email="cal@example.com", jurisdiction="US-CA", notify=False)
    assert req.due_at == policy_answer(req.received_at, settings) < req.received_at + timedelta(days=45)
    assert req.clock == "policy"
    assert req.acknowledge_by == at_time_of(req.received_at, add_working_days(req.received_at.date(), 10))


def test_elsewhere_only_our_policy_applies(settings):
    user = UserFactory()
    Address.objects.create(user=user, name="Bo", line1="1 Rua", city="Lisbon", country="BR", is_default=True)
    req = request_open(kind="question", user=user, message="?", notify=False)
    assert (req.jurisdiction, req.clock, req.acknowledge_by) == ("BR", "policy", None)
    assert req.due_at == policy_answer(req.received_at, settings)
    anonymous = request_open(kind="question", email="x@example.com", notify=False)
    assert (anonymous.jurisdiction, anonymous.clock) == ("", "policy")


def test_an_extension_needs_a_reason_and_stops_at_the_strictest_limit(settings, django_capture_on_commit_callbacks):
    settings.PRIVACY_REQUEST_DAYS = 60
    settings.PRIVACY_REQUEST_MAX_WORKING_DAYS = 200  # our policy looser than the law, to see the law's limit
    req = request_open(kind="access", email="eva@example.com", jurisdiction="DE", notify=False)
    due = req.due_at
    with pytest.raises(RequestError):
        request_extend(case=req, reason="  ")
    req.refresh_from_db()
    assert req.due_at == due and req.extended_reason == ""
    with django_capture_on_commit_callbacks(execute=True):
        request_extend(case=req, reason="Your records are in our archive.", days=200)
    req.refresh_from_db()
    three_months = at_time_of(req.received_at, add_months(req.received_at.date(), 3))
    assert req.due_at == three_months == req.answer_limit  # one month plus two, not 200 days
    assert (req.clock, req.extended_reason) == ("gdpr", "Your records are in our archive.")
    assert "Your records are in our archive." in mail.outbox[-1].body and "GDPR" in mail.outbox[-1].body


def test_a_default_extension_never_passes_our_30_working_days(settings):
    req = request_open(kind="access", email="eu@example.com", jurisdiction="IE", notify=False)
    request_extend(case=req, reason="Many records.", days=90)
    req.refresh_from_db()
    limit = at_time_of(req.received_at, add_working_days(req.received_at.date(), 30))
    assert req.due_at == limit == req.answer_limit and req.clock == "policy"


def test_holidays_push_the_working_day_deadlines(settings):
    before = request_open(kind="access", email="a@example.com", jurisdiction="US-CA", notify=False)
    day, holidays = before.received_at.date(), []
    while len(holidays) < 3:  # the next three working days, whatever today is
        day += timedelta(days=1)
        if is_working_day(day):
            holidays.append(day.isoformat())
    settings.PRIVACY_HOLIDAYS = holidays
    after = request_open(kind="access", email="b@example.com", jurisdiction="US-CA", notify=False)
    assert after.acknowledge_by.date() > before.acknowledge_by.date()
    skipped = before.acknowledge_by.date()
    expected, n = before.received_at.date(), 0
    while n < 10:
        expected += timedelta(days=1)
        if expected.weekday() < 5 and expected.isoformat() not in holidays:
            n += 1
    assert after.acknowledge_by.date() == expected and expected != skipped
    # our policy's 30 working days (the latest answer, even extended) move likewise
    assert after.answer_limit.date() > before.answer_limit.date()
    assert all(day not in holidays for day in (after.acknowledge_by.date().isoformat(),
                                               after.answer_limit.date().isoformat()))


def test_the_reminder_names_the_governing_rule_and_a_missing_acknowledgement(settings):
    officer = staff_user("Privacy officer")
    req = request_open(kind="access", email="cal@example.com", jurisdiction="US-CA", notify=False)
    PrivacyRequest.objects.filter(pk=req.pk).update(acknowledged_at=None,
                                                    acknowledge_by=timezone.now() + timedelta(days=1))
    quiet = request_open(kind="access", email="quiet@example.com", jurisdiction="FR", notify=False)
    assert remind_staff() == 1
    body = mail.outbox[-1].body
    assert mail.outbox[-1].to == [officer.email]
    assert f"#{req.pk}" in body and "acknowledge by" in body and "(Our policy)" in body
    assert f"#{quiet.pk}" not in body and "cal@example.com" not in body


def test_an_acknowledgement_email_records_when_it_went(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = request_open(kind="access", email="cal@example.com", jurisdiction="US-CA")
    req.refresh_from_db()
    assert req.acknowledged_at is not None and req.acknowledged_at <= req.acknowledge_by
    target = at_time_of(req.received_at, add_working_days(req.received_at.date(), 15))
    assert f"We aim to answer by {target:%d %B %Y}, and will answer by {req.due_at:%d %B %Y}" in mail.outbox[-1].body


def test_the_person_picks_california_on_the_form_and_sees_the_deadlines(client, django_capture_on_commit_callbacks):
    form = client.get(reverse("privacy:contact")).content.decode()
    assert "Where do you live? (country or region)" in form and "United States — California" in form
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("privacy:contact"), {"kind": "access", "email": "cal@example.com",
                                                        "message": "My data, please.", "jurisdiction": "US-CA"})
    req = PrivacyRequest.objects.get()
    text = page.content.decode()
    assert req.jurisdiction == "US-CA"
    assert f"{req.due_at:%-d %B %Y}" in text and f"{req.acknowledge_by:%-d %B %Y}" in text
    assert "The deadline follows" in text


def test_an_unknown_region_is_refused_and_files_nothing(client):
    response = client.post(reverse("privacy:contact"), {"kind": "access", "email": "x@example.com",
                                                        "message": "Hi", "jurisdiction": "MARS"})
    assert response.status_code == 400 and not PrivacyRequest.objects.exists()
    assert "Select a valid choice" in response.content.decode()


def test_staff_see_each_deadline_and_the_governing_rule(client, settings):
    settings.PRIVACY_REQUEST_DAYS = 60
    settings.PRIVACY_REQUEST_MAX_WORKING_DAYS = 60
    client.force_login(staff_user("Privacy officer"))
    cal = request_open(kind="access", email="cal@example.com", jurisdiction="US-CA", notify=False)
    PrivacyRequest.objects.filter(pk=cal.pk).update(acknowledged_at=None)
    listing = client.get(reverse("admin:privacy_privacyrequest_changelist")).content.decode()
    assert "CCPA/CPRA" in listing and f"{cal.acknowledge_by:%d %b %Y}" in listing
    page = client.get(reverse("admin:privacy_privacyrequest_change", args=[cal.pk])).content.decode()
    assert "CCPA/CPRA: acknowledged within 10 business days" in page
    assert "governing rule" in page.lower() and "latest answer date with an extension" in page.lower()
