"""Who receives personal data from us: the processor registry, disclosures, the record of
processing, and the one outbound-mail path (send_personal_email).

Public API for the other apps: send_personal_email, MailNotSent, disclose, PROCESSORS."""
from .disclosure import PROCESSORS, MailNotSent, disclose, send_personal_email

__all__ = ["PROCESSORS", "MailNotSent", "disclose", "send_personal_email"]
