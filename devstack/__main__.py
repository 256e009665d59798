"""Command line: `python -m devstack serve|token|demo` (what the Makefile calls)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parameters(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("."), help="project root (template.yaml)")
    parser.add_argument("--region", default="cn-north-1", help="region (and so partition)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API over the embedded AWS")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--param", action="append", default=[], help="template parameter K=V")
    serve.add_argument(
        "--demo", action="store_true", help="start with the demo day (events/day) loaded"
    )

    token = commands.add_parser("token", help="print a bearer token for the local API")
    token.add_argument("--role", required=True)
    token.add_argument("--leader")
    token.add_argument("--store")
    token.add_argument("--ttl", type=int, default=3600, help="seconds (real time)")

    commands.add_parser("demo", help="replay a day through the local stack and report")

    args, rest = parser.parse_known_args(argv)
    if args.command == "serve":
        if rest:
            parser.error(f"unrecognised arguments: {' '.join(rest)}")
        from devstack.server import serve as run

        run(args.root, args.host, args.port, _parameters(args.param), args.region, args.demo)
        return 0
    if args.command == "token":
        from devstack import local_jwt
        from devstack.template import load_model

        model = load_model(args.root, region=args.region)
        print(
            local_jwt.issue(
                args.role,
                model.jwt_audience(),
                leader=args.leader,
                store=args.store,
                ttl_s=args.ttl,
                claim_names=model.claim_names(),
            )
        )
        return 0
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    from devstack import demo

    return int(demo.main(region=args.region) or 0)


if __name__ == "__main__":
    sys.exit(main())
