"""Points and tiers: earned once, reversed by line, oldest spent first."""
