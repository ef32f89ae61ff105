"""Emailing registered users about a material policy change, in batches that resume after a crash."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from privacy.models import PolicyVersion
from privacy.processors.disclosure import send_personal_email


@dataclass(frozen=True)
class NotifyBatch:
    sent: int
    resume_after: int | None  # the last user emailed, when more may follow; None once everyone was told


def policy_notify_batch(*, policy_id: int, after_user_id: int = 0, batch_size: int = 500) -> NotifyBatch:
    """Email the next batch of active users (by id, after `after_user_id`); the last batch marks
    the policy notified, so a second run sends nothing."""
    policy = PolicyVersion.objects.filter(pk=policy_id, material=True, published_at__isnull=False).first()
    if policy is None or policy.notified_at is not None:
        return NotifyBatch(0, None)
    users = list(get_user_model().objects.filter(pk__gt=after_user_id, is_active=True).order_by("pk")
                 .values_list("pk", "email")[:batch_size])
    url = settings.SITE_URL + reverse("privacy:version", args=[policy.version])
    for pk, email in users:
        body = render_to_string("privacy/email/policy_change.txt", {"policy": policy, "url": url, "shop_name": settings.SHOP_NAME})
        send_personal_email(to=email, subject=f"Our privacy policy changes on {policy.effective_at:%d %B %Y}",
                            text=body, fields=["user.email"], subject_user_id=pk, reference=f"policy {policy.version}")
    if len(users) == batch_size:
        return NotifyBatch(len(users), users[-1][0])
    with transaction.atomic():
        PolicyVersion.objects.filter(pk=policy_id).update(notified_at=timezone.now())
    return NotifyBatch(len(users), None)
