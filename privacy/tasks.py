"""Privacy tasks: ids only, idempotent, in batches."""
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from privacy.models import PolicyVersion
from privacy.processors.disclosure import send_personal_email


@shared_task(acks_late=True)
def policy_notify_users(policy_id: int, after_user_id: int = 0, batch_size: int = 500) -> int:
    """Email registered users about a material policy change, in batches; resumes after a crash
    from the last user emailed (the cursor is the task argument)."""
    from shop.models import User

    policy = PolicyVersion.objects.filter(pk=policy_id, material=True, published_at__isnull=False).first()
    if policy is None or policy.notified_at is not None:
        return 0
    users = list(User.objects.filter(pk__gt=after_user_id, is_active=True).order_by("pk")
                 .values_list("pk", "email")[:batch_size])
    url = settings.SITE_URL + reverse("privacy:version", args=[policy.version])
    for pk, email in users:
        body = render_to_string("privacy/email/policy_change.txt", {"policy": policy, "url": url})
        send_personal_email(to=email, subject=f"Our privacy policy changes on {policy.effective_at:%d %B %Y}",
                            text=body, fields=["user.email"], subject_user_id=pk, reference=f"policy {policy.version}")
    if len(users) == batch_size:
        policy_notify_users.delay(policy_id, users[-1][0], batch_size)
    else:
        with transaction.atomic():
            PolicyVersion.objects.filter(pk=policy_id).update(notified_at=timezone.now())
    return len(users)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=10, max_retries=5)
def export_build(job_id: int) -> None:
    """Build a "download my data" archive, then tell its owner (idempotent)."""
    from privacy.rights.export import export_build as build

    job = build(job_id=job_id)
    email = job.user.email if job.user_id else (job.request.requester_email if job.request_id else "")
    if email and job.just_built:  # a redelivered task does not email twice
        url = settings.SITE_URL + (reverse("privacy:dashboard") + "#downloads" if job.user_id
                                   else reverse("privacy:guest_download", args=[job.token]))
        send_personal_email(to=email, subject="Your data is ready to download",
                            text=f"The copy of your data you asked for is ready. Download it within "
                            f"{settings.PRIVACY_EXPORT_DAYS} days: {url}\n— Privacy-first Shop",
                            fields=["user.email"], subject_user_id=job.user_id, guest_index=job.guest_index,
                            reference="data export ready")


# Backoff 30 s, 1, 2, 4, 8, 10 min: about 25 minutes of Stripe outage before giving up.
STRIPE_DELETION_RETRIES = 6


@shared_task(bind=True, acks_late=True, max_retries=STRIPE_DELETION_RETRIES)
def stripe_customer_delete(self, deletion_id: int) -> None:
    """Delete an erased person's Stripe customer (P16): queued after the erasure commits; the
    outcome is recorded on its ProcessorDeletion row (the argument is that row's id)."""
    from privacy.rights.erasure import stripe_deletion_run

    if not stripe_deletion_run(deletion_id=deletion_id, last_attempt=self.request.retries >= self.max_retries):
        raise self.retry(countdown=min(600, 30 * 2 ** self.request.retries))


@shared_task
def exports_expire() -> int:
    from privacy.rights.export import exports_expire as expire

    return expire()


@shared_task
def erasures_run_due() -> int:
    from privacy.rights.erasure import erasure_run_due

    return erasure_run_due()


@shared_task
def requests_remind() -> int:
    from privacy.rights.subject_requests import remind_staff

    return remind_staff()


@shared_task(acks_late=True)
def retention_purge() -> str:
    """Daily: the retention purge (inactive-account warnings included). Safe to run twice."""
    from privacy.retention.purge import purge

    run = purge()
    return run.status


@shared_task(acks_late=True)
def incident_notify(incident_id: int) -> int:
    from privacy.incidents.services import incident_notify as notify

    return notify(incident_id=incident_id)
