"""HTTP plumbing shared by the API functions: errors, principals, authorisation."""
