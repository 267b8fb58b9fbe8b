"""Management commands, deployment settings and the README's run command."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from studies.models import ConsentDocument, Scenario, Study

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MGE_DEV", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(overrides)
    return env


def test_seed_case_study_is_idempotent_and_keeps_coordinator_edits(db):
    call_command("seed_case_study")
    study = Study.objects.get()
    study.title = "Our pilot"
    study.save()
    call_command("seed_case_study")
    assert Study.objects.count() == 1
    assert Study.objects.get().title == "Our pilot"
    assert list(Scenario.objects.values_list("key", flat=True)) == ["abortion", "parenting", "weapons"]
    assert ConsentDocument.objects.count() == 1
    assert "Christian girl" in Scenario.objects.get(key="abortion").prompt


def test_seed_case_study_with_languages_offers_them_with_english_as_the_pivot(db):
    from io import StringIO

    import pytest
    from django.core.management.base import CommandError
    from django.test import Client

    out = StringIO()
    call_command("seed_case_study", languages="es,ar", stdout=out)
    study = Study.objects.get()
    assert study.languages == ["en", "es", "ar"] and "in en, es, ar" in out.getvalue()
    # A Spanish browser enters in Spanish, an Arabic link right to left.
    link = {"PROLIFIC_PID": "p-es", "STUDY_ID": "s", "SESSION_ID": "t"}
    spanish = Client().get(f"/s/{study.slug}/", link, HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9", follow=True)
    assert '<html lang="es"' in spanish.content.decode()
    link = {"PROLIFIC_PID": "p-ar", "STUDY_ID": "s", "SESSION_ID": "u", "lang": "ar"}
    arabic = Client().get(f"/s/{study.slug}/", link, follow=True)
    assert '<html lang="ar" dir="rtl"' in arabic.content.decode()
    # Re-run: nothing changes, and the study keeps the languages a coordinator may have set since.
    call_command("seed_case_study", languages="es,zh", stdout=StringIO())
    assert Study.objects.get().languages == ["en", "es", "ar"]
    # Aliases, and English named anywhere, end up as the shipped codes with English first.
    call_command("seed_case_study", slug="zh-pilot", languages="zh,en", stdout=StringIO())
    assert Study.objects.get(slug="zh-pilot").languages == ["en", "zh-hans"]
    with pytest.raises(CommandError, match="Not a language the platform ships: xx"):
        call_command("seed_case_study", slug="bad", languages="es,xx")
    assert not Study.objects.filter(slug="bad").exists()
    call_command("seed_case_study", slug="plain", stdout=StringIO())
    assert Study.objects.get(slug="plain").languages == ["en"]


def test_create_staff_command_makes_a_coordinator(db):
    from django.contrib.auth import get_user_model

    call_command("create_staff", email="Lead@Example.org", role="coordinator", password="a-long-pass-123")
    user = get_user_model().objects.get(email="lead@example.org")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Coordinators"]
    assert user.check_password("a-long-pass-123")


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="0",
            SECRET_KEY="k" * 10 + "Zx9!q" * 10,
            ALLOWED_HOSTS="mge.example.org",
            SITE_URL="https://mge.example.org",
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_without_site_url_warn_that_links_would_point_to_localhost():
    env = _env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY="k" * 10 + "Zx9!q" * 10,
        ALLOWED_HOSTS="mge.example.org",
    )
    env.pop("SITE_URL", None)
    result = subprocess.run(
        [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    assert "mge.W001" in result.stderr and "SITE_URL is 'http://localhost:8000'" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [PYTHON, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(DJANGO_SETTINGS_MODULE="config.settings"),
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def _layer_backend(setting="CHANNEL_LAYERS", **env):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(settings.{setting}['default']['BACKEND'])"
    )
    result = subprocess.run(
        [PYTHON, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(DJANGO_SETTINGS_MODULE="config.settings_test", **env),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_channel_layer_is_in_memory_by_default_and_redis_when_configured():
    assert _layer_backend() == "mgeplatform.channel_layer.LocalChannelLayer"
    url = "redis://127.0.0.1:6379/0"
    assert _layer_backend(REDIS_URL=url) == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert _layer_backend(REDIS_URL=url, CHANNEL_LAYER="list") == "channels_redis.core.RedisChannelLayer"


def test_cache_is_shared_in_redis_when_configured():
    """Failed-login counters live in the cache: per process they would let
    each web process allow the full number of attempts."""
    assert _layer_backend("CACHES") == "django.core.cache.backends.locmem.LocMemCache"
    assert (
        _layer_backend("CACHES", REDIS_URL="redis://127.0.0.1:6379/0") == "django.core.cache.backends.redis.RedisCache"
    )


@pytest.mark.slow
def test_run_command_serves_consent_page_and_admin():
    """The README's run command, for real: daphne + worker + HTTP requests."""
    port = _free_port()
    result = subprocess.run(
        [PYTHON, "scripts/dev.py", "run", "--check", "--port", str(port)],
        # With the connection pool, as a real run has it (the test settings turn it off).
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env=_env(DB_POOL="1"),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "consent page OK" in output
    assert "admin login OK" in output
    assert f"http://127.0.0.1:{port}/s/case-study/" in output
    assert "coordinator@example.org" in output


def test_owner_switch_takes_effect_with_the_connection_pool():
    """`migrate` on a fresh database switches to the owner role; with the
    pool on, the pool's connections (made as the app role) must not be reused."""
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "from mgeplatform import dbroles\n"
        "def who():\n"
        "    with connection.cursor() as c:\n"
        "        c.execute('SELECT current_user')\n"
        "        return c.fetchone()[0]\n"
        "before = who()\n"
        "with dbroles.as_owner():\n"
        "    during = who()\n"
        "print(before, during, who())\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(DJANGO_SETTINGS_MODULE="config.settings_test", DB_POOL="1"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["mge_app", "mge_owner", "mge_app"]


def test_database_is_postgres_18_with_pgvector(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        version = int(cursor.fetchone()[0])
        cursor.execute("SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector")
        distance = cursor.fetchone()[0]
    if not os.environ.get("DATABASE_URL"):
        assert version >= 180000
    assert 0 < distance < 0.01
