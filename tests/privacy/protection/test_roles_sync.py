"""Staff roles follow privacy.protection.roles.ROLES after every migrate (post_migrate), with no
data migration per change; the squashed migration stands in for 0001-0013 on old databases."""
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from privacy.protection import roles

SQUASH = ("privacy", "0001_squashed_0013_roles_by_post_migrate")


def perms_of(name: str) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=name).permissions.all()}


@pytest.mark.django_db
def test_a_fresh_migrate_creates_every_role_with_exactly_its_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    for name, wanted in roles.ROLES.items():
        assert perms_of(name) == set(wanted)
    assert "privacy.reveal_personal_data" not in perms_of("Catalogue")


@pytest.mark.django_db
def test_editing_the_role_table_and_migrating_again_resyncs_the_roles(monkeypatch):
    dropped, *kept = roles.ROLES["Catalogue"]
    edited = {**roles.ROLES, "Catalogue": [*kept, "privacy.view_incident"]}
    monkeypatch.setattr(roles, "ROLES", edited)
    call_command("migrate", verbosity=0)
    assert "privacy.view_incident" in perms_of("Catalogue")
    assert dropped not in perms_of("Catalogue")  # a permission taken away goes
    assert perms_of("Fulfilment") == set(edited["Fulfilment"])


def test_the_squash_replaces_the_whole_chain_and_keeps_no_role_sync():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    squash = loader.disk_migrations[SQUASH]
    assert [name for _, name in squash.replaces][-1] == "0013_sync_roles" and len(squash.replaces) == 13
    code = [getattr(op, "code", None) for op in squash.operations]
    assert roles.sync_roles not in code and any(c and c.__name__ == "default_policy" for c in code)
    assert all(dep[0] != "orders" for dep in squash.dependencies)  # orders 0003 depends on privacy: no cycle


@pytest.mark.django_db
def test_a_database_migrated_to_0013_takes_the_squash_as_applied():
    loader = MigrationLoader(connection)
    assert SQUASH in loader.applied_migrations or ("privacy", "0013_sync_roles") in loader.applied_migrations
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    # Migrations of other apps that named 0013 now hang on the squash (or on 0013 where it is used).
    parents = graph.node_map[("orders", "0007_order_order_not_anonymised")].parents
    assert {p.key for p in parents} & {SQUASH, ("privacy", "0013_sync_roles")}
