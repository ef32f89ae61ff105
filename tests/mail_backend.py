"""The tests' email backend: Django's in-memory outbox, refusing every message that did not
come through privacy.processors.disclosure.send_personal_email (the one path that checks the email
provider's allowed fields and records the disclosure). A send any other way fails its test."""
from django.core.mail.backends.locmem import EmailBackend

from privacy.processors.disclosure import STAMP


class UnstampedEmail(AssertionError):
    pass


class OnePathEmailBackend(EmailBackend):
    def send_messages(self, messages):
        for message in messages:
            if not getattr(message, STAMP, None):
                raise UnstampedEmail(f"{message.subject!r} was sent without privacy.processors.disclosure.send_personal_email")
        return super().send_messages(messages)
