"""Selling on G2A (seed 004, Import API and dropshipping): G2A calls the shop's HTTP
server, which buys from its own vendors through the usual order pipeline."""
