"""The email a person signs in with: sealed under their own data key, and still found at every
sign-in (P10, P13).

The sign-in email is looked up by equality (sign-in, sign-up, password reset, verification), so
it used to stay in clear, in shop.User.email and in allauth's EmailAddress.email, and a database
backup kept it after an erasure. Both columns now hold

    "se1$" + blind index (32 hex digits) + "$" + ciphertext

The blind index (keyed SHA-256 of the canonical email, privacy.protection.crypto) is what every
lookup compares; the ciphertext is the email sealed under the person's data key (sealing's
"pk1:" form), so destroying that key makes every copy of the address unreadable, backups
included. What is left in an old backup is the keyed index: without BLIND_INDEX_KEY it reveals
nothing, and the replay of erasures (privacy.keys.replay) deletes the row it sits in.

Invariants:
- Lookups `exact`, `iexact` and `in` compare the index head only, so
  `User.objects.filter(email=...)`, allauth's `EmailAddress.objects.filter(email=...)`, the
  admin's "=email" search and Django's unique validation keep working unchanged; any other
  lookup (contains, startswith...) is refused: an encrypted address cannot be searched by part.
- Uniqueness is enforced by a unique index over the head (SUBSTR(email, 1, HEAD)): the full
  column differs at every write (a new nonce).
- Reading never raises: a destroyed key reads as sealing.ERASED, an unreachable key store as
  sealing.UNAVAILABLE (placeholders that keep the stored value, so saving the row back keeps it).
- A value written without its row (QuerySet.update) or while the key store is out of reach is
  sealed under the shop-wide key ring; the daily key sweep moves it under the person's key.
"""
from __future__ import annotations

import base64
import binascii

from django.core import exceptions
from django.db import models
from django.db.models import Func, lookups
from django_cryptography.core.signing import BadSignature
from django_cryptography.utils.crypto import InvalidToken

from privacy.protection import keystore, sealing
from privacy.protection.crypto import KEY_RING, blind_index, normalise_email
from privacy.protection.emailaddr import canonical_email

MARK = "se1$"
HEAD = len(MARK) + 32  # the part every lookup compares: the mark and the blind index
MAX_LENGTH = 512  # a 254-character address, sealed or under the shop-wide key, with its head


def head(email: str) -> str:
    """What a lookup of `email` compares: the head of its canonical form."""
    return MARK + blind_index(normalise_email(str(email)), purpose="signin")[:32]


def stored_head(email: str) -> str:
    """The head a stored address gets. Every path that stores one gives its canonical form; a row
    left from before canonical forms existed, in another spelling (shop migration 0005 left
    look-alikes as they were, for staff to review), gets a head of that exact spelling, which no
    lookup computes: as before, no lookup finds it, and it never collides with the owner's."""
    email = str(email)
    try:
        canonical = canonical_email(email)
    except exceptions.ValidationError:
        canonical = None
    if canonical == email:
        return head(email)
    return MARK + blind_index(email, purpose="signin-as-stored")[:32]


def _shop_wide(email: str) -> str:
    return base64.urlsafe_b64encode(KEY_RING.encrypt(email.encode())).decode()


def compose(email: str, key: tuple[str, bytes] | None) -> str:
    """The stored form of `email`: under the person's key (key id, key), else the shop-wide key."""
    body = sealing.seal(str(email), key_id=key[0], key=key[1]).decode() if key else _shop_wide(str(email))
    return f"{stored_head(email)}${body}"


def is_composed(value) -> bool:
    """A stored form, not an address: an address always has an "@", which neither the hex head nor
    the ciphertext (base64url, key ids) can hold, so an address typed as "se1$…@…" stays an address."""
    return (isinstance(value, str) and value.startswith(MARK) and "@" not in value
            and not isinstance(value, sealing.Unreadable))


def body_of(stored: str) -> bytes:
    """The ciphertext part of a stored value: sealing's "pk1:" form, or a shop-wide token (base64)."""
    return stored[HEAD + 1:].encode()


def open_value(stored: str) -> str:
    """The email, or a placeholder that keeps `stored` (never raises)."""
    body = body_of(stored)
    if sealing.is_sealed(body):
        opened = sealing.unseal(body)
        if isinstance(opened, sealing.Unreadable):
            return sealing.Unreadable.of(str(opened), stored.encode())
        return opened
    try:
        return KEY_RING.decrypt(base64.urlsafe_b64decode(body)).decode()
    except (InvalidToken, BadSignature, binascii.Error, ValueError):
        return sealing.Unreadable.of(sealing.ERASED, stored.encode())


class Head(Func):
    """SUBSTR(column, 1, HEAD), the numbers written into the SQL as the unique indexes have them
    (Django's Substr sends them as parameters, and then neither SQLite nor PostgreSQL matches the
    expression to the index: every lookup would scan the table)."""

    function = "SUBSTR"
    template = f"%(function)s(%(expressions)s, 1, {HEAD})"
    output_field = models.CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="SUBSTRING", **extra)


class _HeadMixin:
    """Compare the stored head with the head of the value looked up."""

    prepare_rhs = False

    def _head_of(self, value):
        if hasattr(value, "resolve_expression"):
            return Head(value)  # another sign-in email column: compare heads
        return value if is_composed(value) and len(value) == HEAD else head(value)

    def process_lhs(self, compiler, connection, lhs=None):
        return super().process_lhs(compiler, connection, Head(lhs if lhs is not None else self.lhs))


class HeadExact(_HeadMixin, lookups.Exact):
    def get_prep_lookup(self):
        return self._head_of(self.rhs)


class HeadIExact(HeadExact):
    lookup_name = "iexact"  # the index is of the canonical (lower-cased) form already


class HeadIn(_HeadMixin, lookups.In):
    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression"):
            raise exceptions.FieldError("A sign-in email is looked up by a list of addresses, not a subquery.")
        return [self._head_of(value) for value in self.rhs if value is not None]


class SignInEmailField(models.EmailField):
    """An EmailField whose column holds the index head and the sealed address (see the module)."""

    encrypts_at_rest = True  # for the registry's check and the record of processing
    ALLOWED_LOOKUPS = frozenset({"exact", "iexact", "in", "isnull"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", MAX_LENGTH)
        super().__init__(*args, **kwargs)

    def get_lookup(self, lookup_name):
        if lookup_name not in self.ALLOWED_LOOKUPS:
            return None  # Django answers FieldError: "Unsupported lookup"
        return super().get_lookup(lookup_name)

    def formfield(self, **kwargs):
        return super().formfield(**{"max_length": 254, **kwargs})

    def from_db_value(self, value, *_context):  # (value, expression, connection), by Django
        if not is_composed(value):
            return value  # an address in clear: a row the migration has not reached yet
        return open_value(value)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if not value or isinstance(value, sealing.Unreadable) or is_composed(value):
            return value
        if value in (sealing.ERASED, sealing.UNAVAILABLE) and model_instance.pk is not None:
            # A placeholder sent back as text: what is stored stays, rather than the placeholder.
            stored = type(model_instance)._base_manager.filter(pk=model_instance.pk) \
                .values_list(self.attname, flat=True).first()
            if stored is not None:
                return stored
        return compose(value, sealing.key_for(model_instance))

    def get_prep_value(self, value):
        if isinstance(value, sealing.Unreadable):
            return value.ciphertext.decode() if value.ciphertext else str(value)
        value = super().get_prep_value(value)
        if not value or is_composed(value):
            return value
        # Written without its row (QuerySet.update, bulk_update): under the key it was read with,
        # else the shop-wide key (never in clear); the daily key sweep moves it later.
        if isinstance(value, sealing.Sealed) and value.key_id:
            try:
                key = keystore.data_key(value.key_id)
            except keystore.KeyStoreUnavailable:
                key = None
            if key is not None:
                return compose(value, (value.key_id, key))
        return compose(value, None)


for _lookup in (HeadExact, HeadIExact, HeadIn):
    SignInEmailField.register_lookup(_lookup)


class AllauthSignInEmailField(SignInEmailField):
    """The same, on allauth's EmailAddress.email (installed at start-up, see install). It describes
    itself to migrations as the EmailField allauth declared, so allauth's app gets no migration."""

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs["max_length"] = 254
        return name, "django.db.models.EmailField", args, kwargs


def install() -> None:
    """At start-up: allauth's EmailAddress.email stores and finds addresses as ours do. The column
    was widened and re-indexed by privacy's migration 0022 (this module's layout)."""
    from allauth.account.models import EmailAddress  # Django forces model imports inside ready()

    field = EmailAddress._meta.get_field("email")
    if not isinstance(field, SignInEmailField):
        field.__class__ = AllauthSignInEmailField  # keeps allauth's max_length (254) for validation


def seal_column(connection, table: str, *, batch_size: int = 1000) -> int:
    """Migrations: every address of `table`.email still in clear takes the stored form, under the
    shop-wide key (a migration does not reach the key store; the key sweep moves them per person).
    Returns the rows changed."""
    return _rewrite(connection, table, batch_size=batch_size,
                    pick=lambda email: not is_composed(email), change=lambda email: compose(email, None))


def open_column(connection, table: str, *, batch_size: int = 1000) -> int:
    """The way back (a migration reversed): every address that still opens returns to clear."""
    def change(stored: str):
        opened = open_value(stored)
        return None if isinstance(opened, sealing.Unreadable) else str(opened)
    return _rewrite(connection, table, batch_size=batch_size, pick=is_composed, change=change)


def _rewrite(connection, table: str, *, batch_size: int, pick, change) -> int:
    quoted, after, done = connection.ops.quote_name(table), 0, 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, email FROM {quoted} WHERE id > %s ORDER BY id LIMIT %s", [after, batch_size])
            rows = cursor.fetchall()
            if not rows:
                return done
            after = rows[-1][0]
            params = [(new, pk) for pk, email in rows if email and pick(email) for new in [change(email)] if new]
            if params:
                cursor.executemany(f"UPDATE {quoted} SET email = %s WHERE id = %s", params)
                done += len(params)
