"""The CI stage is the README's production recipe run: the proxy configuration shown is the one
.ci/stack starts, every variable the settings read is documented, and the environment .ci/stack
gives the shop is the recipe's (plus its two CI-only additions)."""
from __future__ import annotations

import re

from django.conf import settings

BASE = settings.BASE_DIR
README = (BASE / "README.md").read_text()
PRODUCTION = README[README.index("## Production\n"):README.index("\n## ", README.index("## Production\n") + 5)]
CI_ONLY = {"STRIPE_API_BASE", "PRIVACY_PURGE_EVERY_SECONDS"}


def documented() -> set[str]:
    table = PRODUCTION[PRODUCTION.index("### Environment variables"):]
    return set(re.findall(r"^\| `([A-Z0-9_]+)`", table, re.M)) | set(re.findall(r", `([A-Z0-9_]+)` \|", table))


def test_the_proxy_configuration_shown_is_the_one_the_stage_runs():
    shown = re.search(r"```nginx\n(.*?)\n\s*```", PRODUCTION, re.S).group(1)
    runs = (BASE / "tests/stack/nginx.conf").read_text().rstrip("\n")
    assert [line.strip() for line in shown.splitlines()] == [line.strip() for line in runs.splitlines()]


def test_every_variable_the_settings_read_is_in_the_table():
    source = (BASE / "config/settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', source)) | set(re.findall(r'_secret\("([A-Z0-9_]+)"', source))
    assert len(read) > 50
    assert read - documented() == set()


def test_the_stage_runs_the_recipes_environment():
    stack = (BASE / ".ci/stack").read_text()
    env_file = stack[stack.index('cat >"$WORK/shop.env" <<EOF'):]
    env_file = env_file[:env_file.index("\nEOF\n")]
    stage = set(re.findall(r"^([A-Z0-9_]+)=", env_file, re.M))
    recipe = set(re.findall(r"^   ([A-Z0-9_]+)=", PRODUCTION, re.M))
    assert "SHOP_ENV=production" in env_file
    assert stage - CI_ONLY - {"SHOP_VAR_DIR", "SHOP_PRIVATE_ROOT"} == recipe  # the same variables, set alike
    assert stage <= documented()
    for command in ("-c python:config.gunicorn config.wsgi", "-A config worker", "-A config beat", "django_celery_beat.schedulers:DatabaseScheduler",
                    "manage.py migrate", "manage.py collectstatic", "check --deploy --fail-level WARNING"):
        assert command in stack and command in PRODUCTION, command
