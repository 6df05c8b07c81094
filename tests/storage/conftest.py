from __future__ import annotations

import pytest

from storage import Database


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "shop.sqlite3")
    yield database
    await database.close()
