"""Channel webhooks: signed, validated, protected, and logged exactly once."""
