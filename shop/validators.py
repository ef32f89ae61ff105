from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address


def deliverable_email(value: str) -> None:
    """Django's EmailField accepts some internationalised domains that mail cannot be sent to
    (IDNA refuses them); refuse those in the form, before anything is stored."""
    try:
        sanitize_address(value, "utf-8")
    except (UnicodeError, ValueError):
        raise ValidationError("Mail cannot be delivered to this address; please check it.") from None
