"""Leaders and T+1 commission (SPEC 4.5): binding, frozen rates, daily statements to the fen."""
