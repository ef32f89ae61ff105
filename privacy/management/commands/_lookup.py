"""The person a staff command acts on, found by email the one way every lookup does."""
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from privacy.protection.emailaddr import AmbiguousEmail, account_for_email, canonical_email


def person_for_email(value: str):
    """(account or None, canonical email); CommandError, and nothing done, for an address with
    no canonical form or one that more than one account answers to."""
    try:
        return account_for_email(value), canonical_email(value)
    except ValidationError as exc:
        raise CommandError(f"Not a usable email address: {' '.join(exc.messages)}") from None
    except AmbiguousEmail as exc:
        raise CommandError(str(exc)) from None
