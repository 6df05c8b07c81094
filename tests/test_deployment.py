"""compose.yaml, .env.example and the Dockerfile say what the shop really reads and runs:
their variables are settings the shop knows, their commands are the entry points the
end-to-end tests start (`python -m bot --role bot|worker`), their health checks ask the
endpoint the shop serves."""

from __future__ import annotations

import re

import yaml

from bot.config import PROJECT_ROOT, Role, Settings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
KNOWN = {name.upper() for name in Settings.model_fields} | {"POSTGRES_PASSWORD"}
VENDOR_VARIABLE = re.compile(r"^(CODEGAMES|KINGUIN|G2A)_[A-Z_]+$")  # read by vendors/


def test_compose_runs_two_bot_replicas_and_two_workers_with_their_roles():
    services = COMPOSE["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name, role in (("bot", Role.BOT), ("worker", Role.WORKER)):
        service = services[name]
        assert service["command"] == [".venv/bin/python", "-m", "bot", "--role", role.value]
        assert service["deploy"]["replicas"] == 2
        assert "/health" in " ".join(service["healthcheck"]["test"])
        assert service["env_file"] == ".env"
        environment = service["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert set(environment) <= KNOWN
    assert "postgres-data" in COMPOSE["volumes"]


def test_env_example_names_only_settings_the_shop_reads():
    names = [
        line.split("=", 1)[0]
        for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert {"BOT_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET"} <= set(names)
    assert {"KEYS_ENCRYPTION_KEY", "HEALTH_TOKEN", "POSTGRES_PASSWORD"} <= set(names)
    unknown = [n for n in names if n not in KNOWN and not VENDOR_VARIABLE.match(n)]
    assert unknown == []


def test_the_image_runs_the_entry_point_the_tests_start():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert 'CMD [".venv/bin/python", "-m", "bot"]' in dockerfile
    assert "RUN scripts/install.sh" in dockerfile
