"""The local stack: template.yaml's resources in moto, the real handlers invoked in process.

Dev-only, never deployed. There is no Docker here, so `sam local` cannot run; this package reads
`template.yaml` (the single source of truth), creates its tables, queues, bus, rules and parameters
in moto, and plays API Gateway, the event source mappings and the schedulers around the handlers.
Nothing heavy is imported here so `python -m devstack token` stays fast.
"""
