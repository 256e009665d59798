"""AWS adapters: boto3 and key formats live here, never in the domain."""
