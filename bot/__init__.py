"""Assembly and runtime of the storefront: configuration, wiring, background workers."""
