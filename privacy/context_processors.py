from django.utils.functional import SimpleLazyObject

from privacy.consent import ledger as consent
from privacy.policy import versions as policy


def privacy(request):
    """What every page needs to know: whether to ask about cookies, GPC, policy notices."""
    choice = consent.cookie_choice(request)
    return {
        "cookie_banner": choice is None or not choice.current,
        "cookie_choice": choice,
        "gpc": consent.gpc(request),
        "policy_upcoming": SimpleLazyObject(lambda: policy.upcoming()),
        "policy_pending_ack": SimpleLazyObject(lambda: policy.needs_acknowledgement(request.user)),
    }
