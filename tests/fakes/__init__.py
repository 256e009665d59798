"""In-memory fakes of the domain's ports: the same conditions as the adapters, no AWS."""
