"""Product keys at rest are Fernet tokens (cryptography), never plain text in the database."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from storage.models import Key


class KeyCipher:
    def __init__(self, secret: str | bytes) -> None:
        self._fernet = Fernet(secret)
        raw = secret.encode() if isinstance(secret, str) else secret
        self._fingerprint = hashlib.sha256(b"storefront-keys:" + raw.strip()).hexdigest()[:32]

    def fingerprint(self) -> str:
        """Names the key without revealing it: the same in every process that has it."""
        return self._fingerprint

    @classmethod
    def from_file(cls, path: Path) -> KeyCipher:
        """Load the shop's key file, creating it (mode 0600) on first start."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
                handle.flush()
                os.fsync(handle.fileno())
        return cls(path.read_bytes().strip())

    def seal(self, key: Key) -> bytes:
        raw = key.value.encode() if isinstance(key.value, str) else key.value
        return self._fernet.encrypt(raw)

    def open(self, kind: str, mime: str, token: bytes) -> Key:
        try:
            raw = self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise RuntimeError("a stored key cannot be decrypted: wrong encryption key?") from exc
        if kind == "text":
            return Key(kind="text", value=raw.decode(), mime=mime)
        return Key(kind="image", value=raw, mime=mime)
