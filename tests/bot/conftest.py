from tests.storage.conftest import db

__all__ = ["db"]
