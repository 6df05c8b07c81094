from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from storage import Database, KeyCipher, OrderRepo
from tests.support.services import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request, tmp_path):
    """Every storage test runs on both databases the shop supports."""
    if request.param == "sqlite":
        database = await Database.open(tmp_path / "shop.sqlite3")
        yield database
        await database.close()
        return
    async with postgres_database() as url:
        database = await Database.open(url)
        yield database
        await database.close()


@pytest.fixture
def repo(db):
    """The orders, on the test's database."""
    return OrderRepo(db, KeyCipher(Fernet.generate_key()))
