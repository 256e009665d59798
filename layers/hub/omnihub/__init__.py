"""Domain package of the omni-channel member and service hub."""
