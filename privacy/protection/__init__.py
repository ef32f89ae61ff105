"""Protection of stored data: encryption and keys, blind indexes, masking, network
minimisation, staff roles, private files (storage), and the limits on what one client can make the shop do (throttle).
Imports only the registry of privacy.

The names below are what the other apps may use (their models' encrypted fields, the one
canonical email form, masks for their declarations); privacy's own code imports the modules."""
from .crypto import KEY_RING, email_index, encrypted, encrypted_fields
from .emailaddr import EmailAddressField, canonical_email, validate_email_address
from .masking import mask_address_line, mask_email, mask_name, mask_phone, show
from .network import truncate_ip
from .roles import role_perms
from .signin import HEAD as SIGNIN_EMAIL_HEAD
from .signin import SignInEmailField
from .storage import FileUnavailable, private_delete, sealed_read, sealed_write
from .throttle import client_ip, hit, limit, too_many

__all__ = [
    "KEY_RING", "SIGNIN_EMAIL_HEAD", "EmailAddressField", "FileUnavailable", "SignInEmailField", "canonical_email", "client_ip", "email_index", "encrypted", "encrypted_fields",
    "hit", "limit", "mask_address_line", "mask_email", "mask_name", "mask_phone", "private_delete", "role_perms",
    "sealed_read", "sealed_write", "show", "too_many",
    "truncate_ip",
    "validate_email_address",
]
