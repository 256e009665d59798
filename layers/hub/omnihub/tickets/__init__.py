"""Tickets with SLA clocks (SPEC 4.4): policies as data, pausable clocks, a cheap sweep."""
