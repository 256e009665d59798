"""Event contracts: what channels post (channel), what travels on the bus (envelope, domain)."""
