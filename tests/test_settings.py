"""Production settings refuse to start without real secrets, and `check --deploy` is clean."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "SHOP_ENV": "production", "SECRET_KEY": "k" * 20 + "9f8e7d6c5b4a3z2y1x0w" * 3,
    "CRYPTOGRAPHY_KEY": "c" * 44, "BLIND_INDEX_KEY": "b" * 44, "ALLOWED_HOSTS": "shop.example.com",
    "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_PUBLISHABLE_KEY": "pk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in GOOD and not k.startswith(("SHOP_", "STRIPE_", "DJANGO_ALLOW_ASYNC"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **GOOD, SHOP_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing,message", [
    ("SECRET_KEY", "SECRET_KEY must be set"),
    ("CRYPTOGRAPHY_KEY", "CRYPTOGRAPHY_KEY must be set"),
    ("BLIND_INDEX_KEY", "BLIND_INDEX_KEY must be set"),
    ("ALLOWED_HOSTS", "ALLOWED_HOSTS must list"),
    ("STRIPE_SECRET_KEY", "Production takes real payments"),
])
def test_production_refuses_to_start_without_each_secret(tmp_path, missing, message):
    env = {k: v for k, v in GOOD.items() if k != missing}
    result = manage("check", **env, SHOP_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "keys").exists()  # production never invents a key


def test_production_refuses_a_weak_or_default_secret_key(tmp_path):
    result = manage("check", **{**GOOD, "SECRET_KEY": "django-insecure-" + "x" * 50}, SHOP_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_local_default_generates_keys_once_outside_the_database(tmp_path):
    first = manage("shell", "-c", "from django.conf import settings; print(settings.CRYPTOGRAPHY_KEY)",
                   SHOP_ENV="local", SHOP_VAR_DIR=str(tmp_path))
    second = manage("shell", "-c", "from django.conf import settings; print(settings.CRYPTOGRAPHY_KEY)",
                    SHOP_ENV="local", SHOP_VAR_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == second.stdout.strip().splitlines()[-1]
    key_file = tmp_path / "keys" / "cryptography_key"
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only


def test_production_templates_use_the_cached_loader(tmp_path):
    # Issue 15: with DEBUG off every template is compiled once per process, not per request.
    # Django 5.2 wraps the default loaders in the cached loader when "loaders" is not set;
    # this fails if someone lists loaders by hand without the cached one.
    code = ("from django.template import engines; e = engines['django'].engine; "
            "print(e.debug, [type(loader).__module__ for loader in e.template_loaders])")
    result = manage("shell", "-c", code, **GOOD, SHOP_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    debug, loaders = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert debug == "False"
    assert loaders == "['django.template.loaders.cached']"
