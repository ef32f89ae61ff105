"""A signed-in person's current marketing-email and personalisation choices, as the dashboard shows them."""
from __future__ import annotations

from privacy.consent import ledger
from privacy.models import ConsentRecord, MarketingSubscriber


def account_choices(user) -> dict[str, bool]:
    subscriber = MarketingSubscriber.objects.filter(user=user).first()
    return {"marketing_email": bool(subscriber and (subscriber.active or subscriber.confirmed_at is None)
                                    and subscriber.unsubscribed_at is None),
            "personalisation": ledger.ledger_state(purpose=ConsentRecord.Purpose.PERSONALISATION, user=user)}
