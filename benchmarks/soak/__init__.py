"""The fault soak: the real shop's processes against the fake Telegram and every vendor's
simulator, with faults of every kind, and a verdict on its money and keys (see run.py)."""
