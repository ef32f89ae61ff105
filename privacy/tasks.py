"""Privacy tasks: ids only, idempotent, in batches; each one call into its service.

Every periodic task (beat's schedule, settings.CELERY_BEAT_SCHEDULE) runs under a lease named after
it (config/lease.py): a second beat started by mistake sends each twice, and the second run then
does nothing.

Services never import this module: they queue a task by its name (celery.signature), which
beat's schedule and the broker's messages already depend on, so it cannot change anyway."""
from celery import shared_task

from config.lease import one_at_a_time
from privacy.incidents.services import incident_notify as notify_incident
from privacy.keys.sweep import keys_sweep as sweep_keys
from privacy.policy.notify import policy_notify_batch
from privacy.retention.legal_holds import legal_holds_expire as expire_legal_holds
from privacy.retention.purge import purge
from privacy.rights.erasure import erasure_run_due, stripe_deletion_run
from privacy.rights.export import export_build_and_tell
from privacy.rights.export import exports_expire as expire_exports
from privacy.rights.subject_requests import remind_staff


@shared_task(acks_late=True)
def policy_notify_users(policy_id: int, after_user_id: int = 0, batch_size: int = 500) -> int:
    """Email registered users about a material policy change, in batches; resumes after a crash
    from the last user emailed (the cursor is the task argument)."""
    batch = policy_notify_batch(policy_id=policy_id, after_user_id=after_user_id, batch_size=batch_size)
    if batch.resume_after is not None:
        policy_notify_users.delay(policy_id, batch.resume_after, batch_size)
    return batch.sent


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=10, max_retries=5)
def export_build(job_id: int) -> None:
    """Build a "download my data" archive, then tell its owner (idempotent)."""
    export_build_and_tell(job_id=job_id)


# Backoff 30 s, 1, 2, 4, 8, 10 min: about 25 minutes of Stripe outage before giving up.
STRIPE_DELETION_RETRIES = 6


@shared_task(bind=True, acks_late=True, max_retries=STRIPE_DELETION_RETRIES)
def stripe_customer_delete(self, deletion_id: int) -> None:
    """Delete an erased person's Stripe customer (P16): queued after the erasure commits; the
    outcome is recorded on its ProcessorDeletion row (the argument is that row's id)."""
    if not stripe_deletion_run(deletion_id=deletion_id, last_attempt=self.request.retries >= self.max_retries):
        raise self.retry(countdown=min(600, 30 * 2 ** self.request.retries))


@shared_task
@one_at_a_time(seconds=30 * 60)
def exports_expire() -> int:
    return expire_exports()


@shared_task
@one_at_a_time(seconds=60 * 60)
def erasures_run_due() -> int:
    return erasure_run_due()


@shared_task
@one_at_a_time(seconds=30 * 60)
def requests_remind() -> int:
    return remind_staff()


@shared_task(acks_late=True)
@one_at_a_time(seconds=30 * 60)
def legal_holds_expire() -> int:
    """Daily, before the purge: holds past their expiry end (and release what they kept)."""
    return expire_legal_holds()


@shared_task(acks_late=True)
@one_at_a_time(seconds=60 * 60)
def retention_purge() -> str:
    """Daily: the retention purge (inactive-account warnings included). Safe to run twice."""
    return purge().status


@shared_task(acks_late=True)
@one_at_a_time(seconds=60 * 60)
def keys_sweep() -> int:
    """Daily, after the purge and the due erasures: destroy the data keys nobody's rows need any
    more (what the purge deleted or anonymised, erasures the key store missed) and re-seal values
    written under the shop-wide key during a key-store outage. Safe to run twice. Returns the
    number of keys destroyed."""
    return sweep_keys().keys_destroyed


@shared_task(acks_late=True)
def incident_notify(incident_id: int) -> int:
    return notify_incident(incident_id=incident_id)
