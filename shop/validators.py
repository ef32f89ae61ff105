"""Kept for the forms that import it: the one email validator lives in privacy.protection.emailaddr."""
from privacy.protection import validate_email_address as deliverable_email

__all__ = ["deliverable_email"]
