"""Tickets with SLA clocks: policies as data, pausable clocks, a cheap sweep."""
