"""In-process HTTP simulators of wholesale vendor APIs (sandbox mode and tests)."""
