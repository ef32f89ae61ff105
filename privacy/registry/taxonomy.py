"""The registry's vocabulary: the categories of personal data we hold, the purposes we process
them for and the legal bases we rely on. Every declaration, the policy page, the record of
processing and the privacy page speak in these words. Imports nothing of privacy."""
from __future__ import annotations

from django.db import models


class DataCategory(models.TextChoices):
    IDENTITY = "identity", "Identity (name)"
    CONTACT = "contact", "Contact details (email, phone)"
    ADDRESS = "address", "Postal address"
    PAYMENT = "payment_reference", "Payment reference"
    TECHNICAL = "technical", "Technical data (sessions, device, network)"
    BEHAVIOURAL = "behavioural", "Browsing and preferences"
    COMMUNICATIONS = "communications", "Messages and requests"


class ProcessingPurpose(models.TextChoices):
    ACCOUNT = "account", "Running your account"
    ORDER_FULFILMENT = "order_fulfilment", "Delivering your orders"
    PAYMENT = "payment", "Taking payment"
    CUSTOMER_SERVICE = "customer_service", "Answering your questions"
    SECURITY = "security", "Keeping the shop secure"
    MARKETING = "marketing", "Marketing emails you asked for"
    PERSONALISATION = "personalisation", "Recommendations you asked for"
    ANALYTICS = "analytics", "Anonymous statistics"
    LEGAL = "legal", "Meeting legal obligations"
    PRIVACY_RIGHTS = "privacy_rights", "Handling your privacy requests"


class LegalBasis(models.TextChoices):
    CONTRACT = "contract", "Performance of a contract"
    CONSENT = "consent", "Consent"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"
    LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests"


class DecayTrigger(models.TextChoices):
    """What starts a decay step's clock, in the words the privacy page and the policy use."""

    RETURN_WINDOW_CLOSED = "return_window_closed", "after delivery, when the return window closes"
    REFUNDS_CLOSED = "refunds_closed", "after delivery, once the return window has closed and no return or refund is open"
    RETURN_CLOSED = "return_closed", "after the refund"
    LAST_SEEN = "last_seen", "after the session was last used"
    LAST_SIGN_IN = "last_sign_in", "after the last sign-in"
