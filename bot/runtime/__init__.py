"""How the shop runs as one or several processes: roles, Telegram updates by polling or
webhook, signals and shared state between processes, health and metrics."""

from __future__ import annotations

import os
import socket


def process_name(role: str = "") -> str:
    """This process, as leases name their owner."""
    return f"{socket.gethostname()}:{os.getpid()}{':' + role if role else ''}"
