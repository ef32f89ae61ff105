"""The email a person signs in with is sealed under their own key like the rest of their account
(P10, P13), and the shop still finds the account by it at every sign-in.

What a customer or staff member would notice: sign-up, sign-in under any spelling, password reset
and the admin's search by address work as before; the database (and so each backup of it) holds
no address in clear; once the person's key is destroyed, the address reads as erased everywhere
and nothing answers 500."""
from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import FieldError
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse

from privacy.keys.sweep import values_reseal
from privacy.models import DataKey
from privacy.protection import signin
from privacy.protection.keystore import forget_cache
from privacy.protection.sealing import ERASED, PREFIX
from shop.models import User
from tests.factories import UserFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.promise("P10")]
PASSWORD = "Walnut-lamp-2026!"
ADDRESS = "ada.signin@example.com"


def stored(table: str, user_id: int) -> list[str]:
    column = "id" if table == "shop_user" else "user_id"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT email FROM {table} WHERE {column} = %s ORDER BY id", [user_id])
        return [row[0] for row in cursor.fetchall()]


def every_stored_email() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM shop_user")
        users = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT email FROM account_emailaddress")
        return repr(users + [row[0] for row in cursor.fetchall()])


def sealed_per_person(value: str) -> bool:
    return value.startswith(signin.MARK) and value[signin.HEAD + 1:].encode().startswith(PREFIX)


def sign_up_and_verify(client) -> User:
    response = client.post(reverse("account_signup"), {"email": "  Ada.SignIn@Example.com ", "password1": PASSWORD,
                                                       "password2": PASSWORD, "adult": "on"})
    assert response.status_code == 302
    link = re.search(r"(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body).group(1)
    client.post(link)
    client.logout()
    return User.objects.get(email=ADDRESS)


def sign_in(client, login: str):
    return client.post(reverse("account_login"), {"login": login, "password": PASSWORD})


@pytest.mark.promise("P13")
def test_a_new_account_keeps_no_address_in_clear_and_signs_in_under_any_spelling(client):
    user = sign_up_and_verify(client)
    assert mail.outbox[-1].to == [ADDRESS]  # the confirmation went to the address, read back from its seal
    assert ADDRESS not in every_stored_email() and "ada.signin" not in every_stored_email()
    assert [sealed_per_person(v) for v in stored("shop_user", user.pk) + stored("account_emailaddress", user.pk)] \
        == [True, True]
    assert user.email == ADDRESS and EmailAddress.objects.get(user=user).email == ADDRESS
    assert EmailAddress.objects.get(user=user).verified
    for spelling in (ADDRESS, "ADA.SIGNIN@EXAMPLE.COM", " Ada.Signin@example.com"):
        assert sign_in(client, spelling).status_code == 302
        assert int(client.session["_auth_user_id"]) == user.pk
        client.logout()
    assert sign_in(client, "ada.signin@example.org").status_code == 200  # another address: no account
    assert "_auth_user_id" not in client.session


def test_two_writes_of_one_address_differ_but_one_account_per_address_still_holds():
    first = UserFactory(email=ADDRESS)
    before = stored("shop_user", first.pk)[0]
    first.save()
    after = stored("shop_user", first.pk)[0]
    assert before != after and before[:signin.HEAD] == after[:signin.HEAD]  # a new nonce, the same head
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("Ada.SignIn@example.com", password=PASSWORD)
    other = UserFactory(email="grace@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():  # allauth's table: one verified owner per address
        EmailAddress.objects.create(user=other, email=ADDRESS, verified=True)
    with pytest.raises(IntegrityError), transaction.atomic():  # and an address once per account
        EmailAddress.objects.create(user=first, email=ADDRESS, verified=False)
    assert User.objects.count() == 2 and EmailAddress.objects.filter(user=other).count() == 1


def test_an_address_is_found_whole_never_by_a_part(staff_client):
    user = UserFactory(email=ADDRESS)
    UserFactory(email="grace@example.com")
    assert list(User.objects.filter(email=ADDRESS)) == [user]
    assert list(User.objects.filter(email__in=["nobody@example.com", "ADA.SIGNIN@example.com"])) == [user]
    assert list(EmailAddress.objects.filter(email=ADDRESS).values_list("user_id", flat=True)) == [user.pk]
    with pytest.raises(FieldError):
        User.objects.filter(email__contains="ada").exists()
    officer = staff_client("Privacy officer")
    changelist = reverse("admin:shop_user_changelist")
    whole = officer.get(changelist, {"q": "Ada.SignIn@Example.com"})
    assert whole.status_code == 200
    assert reverse("admin:shop_user_change", args=[user.pk]) in whole.content.decode()
    part = officer.get(changelist, {"q": "ada"})
    assert part.status_code == 200
    assert reverse("admin:shop_user_change", args=[user.pk]) not in part.content.decode()


def test_an_address_written_without_its_row_is_never_in_clear_and_the_sweep_seals_it_per_person(client):
    user = UserFactory(email="old@example.com", password=PASSWORD)
    User.objects.filter(pk=user.pk).update(email=ADDRESS)  # no row, so no person's key at hand
    EmailAddress.objects.filter(user=user).update(email=ADDRESS)
    raw = stored("shop_user", user.pk) + stored("account_emailaddress", user.pk)
    assert ADDRESS not in repr(raw) and not any(sealed_per_person(v) for v in raw)  # under the shop-wide key
    assert User.objects.get(pk=user.pk).email == ADDRESS
    assert sign_in(client, ADDRESS).status_code == 302  # found and readable all the same
    client.logout()
    report = values_reseal()
    assert report.resealed == {"shop.User.email": 1, "account.EmailAddress.email": 1}
    raw = stored("shop_user", user.pk) + stored("account_emailaddress", user.pk)
    assert all(sealed_per_person(v) for v in raw) and ADDRESS not in repr(raw)
    assert User.objects.get(pk=user.pk).email == ADDRESS
    assert values_reseal().resealed == {}  # idempotent
    assert sign_in(client, ADDRESS).status_code == 302


def test_the_migration_seals_addresses_in_clear_and_its_reverse_opens_them():
    user = UserFactory(email=ADDRESS)
    with connection.cursor() as cursor:  # as the rows stood before the migration
        cursor.execute("UPDATE shop_user SET email = %s WHERE id = %s", [ADDRESS, user.pk])
        cursor.execute("UPDATE account_emailaddress SET email = %s WHERE user_id = %s", [ADDRESS, user.pk])
    assert signin.seal_column(connection, "shop_user") == 1
    assert signin.seal_column(connection, "account_emailaddress") == 1
    assert signin.seal_column(connection, "shop_user") == 0  # idempotent
    assert ADDRESS not in every_stored_email()
    assert User.objects.get(email=ADDRESS).pk == user.pk
    assert signin.open_column(connection, "shop_user") == User.objects.count()
    assert stored("shop_user", user.pk) == [ADDRESS]


@pytest.mark.promise("P13")
def test_once_the_key_is_destroyed_the_address_reads_as_erased_and_nothing_breaks(client):
    user = sign_up_and_verify(client)
    DataKey.objects.filter(subject=f"user:{user.pk}").delete()
    forget_cache()
    kept = stored("shop_user", user.pk)
    account = User.objects.get(pk=user.pk)
    assert account.email == ERASED and EmailAddress.objects.get(user=user).email == ERASED
    account.save()  # a form sending the shown value back
    assert stored("shop_user", user.pk) == kept  # the placeholder never replaces what is stored
    superuser = Client()
    superuser.force_login(staff_user(email="root@example.com", is_superuser=True))
    for url in (reverse("admin:shop_user_changelist"), reverse("admin:shop_user_change", args=[user.pk]),
                reverse("admin:account_emailaddress_changelist"),
                reverse("admin:account_emailaddress_change", args=[EmailAddress.objects.get(user=user).pk])):
        response = superuser.get(url)
        assert response.status_code == 200, url
        assert "ada.signin" not in response.content.decode().lower(), url
    assert Client().post(reverse("account_reset_password"), {"email": ADDRESS}).status_code == 302
    assert [m for m in mail.outbox if "reset" in m.subject.lower()] == []  # no mail to an address that no longer opens


def test_signing_up_while_the_key_store_is_away_keeps_the_address_out_of_clear(client):
    forget_cache()
    away = transaction.savepoint(using="keys")
    with connections["keys"].cursor() as cursor:
        cursor.execute("ALTER TABLE privacy_datakey RENAME TO privacy_datakey_away")
    response = client.post(reverse("account_signup"), {"email": ADDRESS, "password1": PASSWORD,
                                                       "password2": PASSWORD, "adult": "on"})
    transaction.savepoint_rollback(away, using="keys")
    forget_cache()
    assert response.status_code == 302
    user = User.objects.get(email=ADDRESS)
    raw = stored("shop_user", user.pk) + stored("account_emailaddress", user.pk)
    assert ADDRESS not in repr(raw) and not any(sealed_per_person(v) for v in raw)
    assert user.email == ADDRESS  # under the shop-wide key meanwhile
    values_reseal()
    assert all(sealed_per_person(v) for v in stored("shop_user", user.pk) + stored("account_emailaddress", user.pk))


def test_every_lookup_by_address_uses_its_index_not_a_scan_of_the_table():
    """Sign-in looks the address up in both tables at every attempt: a lookup that cannot use the
    unique index over the blind-index head would read every account (the numbers of the head
    must be written into the SQL as the index has them)."""
    UserFactory(email=ADDRESS)
    plans = {}
    for name, qs in (("user_one_account_per_email", User.objects.filter(email=ADDRESS)),
                     ("emailaddress_once_per_account", EmailAddress.objects.filter(email=ADDRESS)),
                     ("user_one_account_per_email", User.objects.filter(email__in=[ADDRESS, "b@example.com"]))):
        sql, params = qs.values_list("pk", flat=True).query.sql_with_params()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask which plan is possible
                cursor.execute("EXPLAIN " + sql, params)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plans[name] = plan = repr(cursor.fetchall())
        assert name in plan, plan
    assert len(plans) == 2


def test_signing_in_while_the_key_store_is_away_works_and_shows_no_error(client):
    """Sign-in finds the account by the blind-index head, which needs no key: a key store out of
    reach leaves the person's details unreadable for a while, not the person locked out."""
    user = UserFactory(email=ADDRESS, password=PASSWORD)
    forget_cache()
    away = transaction.savepoint(using="keys")
    with connections["keys"].cursor() as cursor:
        cursor.execute("ALTER TABLE privacy_datakey RENAME TO privacy_datakey_away")
    try:
        response = sign_in(client, ADDRESS)
        assert response.status_code == 302 and int(client.session["_auth_user_id"]) == user.pk
        assert client.get(reverse("account:center")).status_code == 200
        assert mail.outbox == []  # no verification mail to an address that cannot be read now
    finally:
        transaction.savepoint_rollback(away, using="keys")
        forget_cache()


def test_rotating_the_master_key_leaves_no_sign_in_email_depending_on_the_old_key(settings, client):
    """After the upgrade's migrations the addresses sit under the shop-wide key until the sweep:
    a rotation in between must not leave them to the old key, or retiring it would lose them."""
    from privacy.keys.rotation import count_under_old_keys, rotate

    user = UserFactory(email=ADDRESS, password=PASSWORD)
    sealed = UserFactory(email="grace@example.com")  # already under her own key
    for table in ("shop_user", "account_emailaddress"):  # as the migrations leave them
        signin.open_column(connection, table)
        signin.seal_column(connection, table)
    settings.CRYPTOGRAPHY_OLD_KEYS = [settings.CRYPTOGRAPHY_KEY]
    settings.CRYPTOGRAPHY_KEY = "a-new-master-key-" + "s" * 32
    counts = count_under_old_keys()
    assert counts["shop.User.email"] == 2 and counts["account.EmailAddress.email"] == 2
    reports = {r.model_label: r.rows for r in rotate(batch_size=100)}
    assert reports["sign-in emails (moved under their person's key)"] == 4
    counts = count_under_old_keys()
    assert counts["shop.User.email"] == 0 and counts["account.EmailAddress.email"] == 0
    settings.CRYPTOGRAPHY_OLD_KEYS = []  # the old key is retired
    forget_cache()
    assert [User.objects.get(pk=u.pk).email for u in (user, sealed)] == [ADDRESS, "grace@example.com"]
    assert sign_in(client, ADDRESS).status_code == 302


def test_staff_add_an_account_in_the_admin_and_a_second_one_for_the_address_is_refused_plainly():
    superuser = Client()
    superuser.force_login(staff_user(email="root@example.com", is_superuser=True))
    add = reverse("admin:shop_user_add")
    data = {"email": "Staff.New@Example.com", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"}
    assert superuser.post(add, data).status_code == 302
    created = User.objects.get(email="staff.new@example.com")
    assert "staff.new" not in every_stored_email() and sealed_per_person(stored("shop_user", created.pk)[0])
    again = superuser.post(add, data | {"email": "STAFF.NEW@example.com"})
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    assert User.objects.filter(email="staff.new@example.com").count() == 1


def test_an_address_that_looks_like_a_stored_form_is_still_sealed_and_found(client):
    """'$' is allowed in an address: one typed as "se1$…" must not pass for an already sealed value
    (it would be stored in clear and never found)."""
    tricky = "se1$0123456789abcdef0123456789abcdef$pk1@example.com"
    response = client.post(reverse("account_signup"), {"email": tricky, "password1": PASSWORD,
                                                       "password2": PASSWORD, "adult": "on"})
    assert response.status_code == 302
    user = User.objects.get(email=tricky)
    assert tricky not in every_stored_email() and sealed_per_person(stored("shop_user", user.pk)[0])
    assert user.email == tricky and EmailAddress.objects.get(user=user).email == tricky
