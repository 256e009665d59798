"""Points and tiers (SPEC 4.2): earned once, reversed by line, oldest spent first."""
