"""Leaders and T+1 commission: binding, frozen rates, daily statements to the fen."""
