"""The privacy policy's versions (P21).

A version is written in Markdown by staff and rendered to sanitised HTML. Publishing fixes
an effective date at least POLICY_NOTICE_WORKING_DAYS working days (Monday to Friday) ahead;
until then the current version stays in force and every page announces the change. The
current version is simply the newest published one whose effective date has passed, so a
version takes effect at its date without anybody acting. Material changes are emailed to
registered users and shown in the site until each user acknowledges them.
"""
from __future__ import annotations

import difflib
from datetime import datetime, time

import markdown
import nh3
from celery import signature
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from privacy.models import PolicyAcknowledgement, PolicyVersion, validate_policy_version
from privacy.protection.memo import PerObjectCache
from privacy.registry.workdays import add_working_days

ALLOWED_TAGS = {"h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "a", "blockquote", "code", "table",
                "thead", "tbody", "tr", "th", "td", "br", "hr"}


class PolicyError(Exception):
    pass


def earliest_effective(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    day = add_working_days(timezone.localdate(now), settings.POLICY_NOTICE_WORKING_DAYS)
    return timezone.make_aware(datetime.combine(day, time.min))


def render(text: str) -> SafeString:
    html = markdown.markdown(text or "", extensions=["tables"], output_format="html")
    return mark_safe(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                               url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer"))


def current(now: datetime | None = None) -> PolicyVersion | None:
    return (PolicyVersion.objects.filter(published_at__isnull=False, effective_at__lte=now or timezone.now())
            .order_by("-effective_at", "-pk").first())


def upcoming(now: datetime | None = None) -> PolicyVersion | None:
    return (PolicyVersion.objects.filter(published_at__isnull=False, effective_at__gt=now or timezone.now())
            .order_by("effective_at", "pk").first())


@transaction.atomic
def publish(*, version: PolicyVersion, effective_at: datetime) -> PolicyVersion:
    """Publish a draft. Refuses an effective date less than the notice period ahead."""
    locked = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if locked.published_at is not None:
        raise PolicyError("This version is already published; write a new version instead.")
    try:  # drafts named before the rule existed: once published, a name can no longer be changed
        validate_policy_version(locked.version)
    except ValidationError as exc:
        raise PolicyError(f"Rename version {locked.version!r} before publishing (its name becomes part of the "
                          f"policy's web address). {exc.messages[0]}") from exc
    minimum = earliest_effective()
    if effective_at < minimum:
        raise PolicyError(
            f"A policy change needs {settings.POLICY_NOTICE_WORKING_DAYS} working days' notice: the earliest "
            f"effective date is {minimum:%A %d %B %Y}.")
    if upcoming() is not None:
        raise PolicyError("Another version is already announced; let it take effect first.")
    locked.published_at = timezone.now()
    locked.effective_at = effective_at
    locked.save(update_fields=["published_at", "effective_at"])
    if locked.material:
        # Queued by its name (privacy.tasks documents why): services sit below the task module.
        transaction.on_commit(lambda: signature("privacy.tasks.policy_notify_users", args=(locked.pk,)).delay())
    return locked


def diff_html(old: PolicyVersion | None, new: PolicyVersion) -> SafeString:
    """Line-by-line changes between two versions' texts, escaped."""
    before = (old.body if old else "").splitlines()
    rows = []
    for line in difflib.ndiff(before, new.body.splitlines()):
        tag, text = line[:2], escape(line[2:])
        if tag == "+ ":
            rows.append(f'<li class="added"><ins>{text}</ins></li>' if text else '<li class="added">&nbsp;</li>')
        elif tag == "- ":
            rows.append(f'<li class="removed"><del>{text}</del></li>' if text else '<li class="removed">&nbsp;</li>')
        elif tag == "  ":
            rows.append(f"<li>{text or '&nbsp;'}</li>")
    return mark_safe('<ol class="policy-diff">' + "".join(rows) + "</ol>")


def _pending_sql(user: str = "%s") -> str:
    # Plain SQL, built once: every signed-in page asks, and compiling the ORM's query (a subquery
    # for the exclusion) cost a quarter of a signed-in list page. Same rule as the ORM's
    # filter(published, material).exclude(acknowledgements__user=user).order_by("-effective_at").
    # `user`: the user's id, as a parameter or as an outer query's column.
    policy, ack = PolicyVersion._meta.db_table, PolicyAcknowledgement._meta.db_table
    return (f"SELECT p.id FROM {policy} p WHERE p.published_at IS NOT NULL AND p.material = %s AND NOT EXISTS "
            f"(SELECT 1 FROM {ack} a WHERE a.policy_id = p.id AND a.user_id = {user}) "
            "ORDER BY p.effective_at DESC LIMIT 1")


PENDING_SQL = _pending_sql()

# Answers read with the user's own row (shop's signed-in frame query), per user object: a user
# object lives for one request, so the answer is the database's at the start of that request.
_pending_read: PerObjectCache[tuple[int | None]] = PerObjectCache()


def pending_acknowledgement_sql(*, user_column: str) -> tuple[str, list]:
    """needs_acknowledgement's question as a scalar subquery over `user_column` (an outer query's
    column holding the user's id), with its parameters: for a query that reads it with the user."""
    return f"({_pending_sql(user_column)})", [True]


def remember_pending_acknowledgement(*, user, policy_id: int | None) -> None:
    """The answer of pending_acknowledgement_sql read together with `user` (this object only)."""
    _pending_read.set(user, (policy_id,))


def needs_acknowledgement(user) -> PolicyVersion | None:
    """The material version this user has not yet acknowledged, if any (announced or current).
    One query when none is pending (the usual case), two when one is; none but the version's
    own when the answer was read with the user's row (remember_pending_acknowledgement)."""
    if not getattr(user, "is_authenticated", False):
        return None
    known = _pending_read.get(user)
    if known is not None:
        pending_id = known[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute(PENDING_SQL, [True, user.pk])
            row = cursor.fetchone()
        pending_id = row[0] if row else None
    pending = PolicyVersion.objects.filter(pk=pending_id).first() if pending_id is not None else None
    if pending is None or (user.date_joined and pending.published_at and user.date_joined > pending.published_at):
        return None
    return pending


@transaction.atomic
def acknowledge(*, user, policy: PolicyVersion) -> PolicyAcknowledgement:
    ack, _ = PolicyAcknowledgement.objects.get_or_create(user=user, policy=policy)
    return ack
