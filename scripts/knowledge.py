"""The knowledge table in AWS (D84): `seed` loads seed/knowledge.json's entries the table lacks
(run by `make deploy`; never overwrites an entry the service team edited), `put FILE` adds or
changes one entry after validating it as the function will (exit 2 naming the field).

    python scripts/knowledge.py seed --table omnihub-dev-knowledge
    python scripts/knowledge.py put entry.json --table omnihub-dev-knowledge

Running functions see a change within five minutes (their cache)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3
from pydantic import ValidationError

from omnihub.adapters.knowledge_table import KnowledgeTable
from omnihub.feedback.knowledge import EntryData, read_seed
from omnihub.webhook.intake import field_errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("seed", "put"))
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--table", required=True)
    args = parser.parse_args(argv)
    table = KnowledgeTable(boto3.client("dynamodb"), args.table)
    if args.command == "seed":
        print(f"{table.seed(read_seed())} items written (existing ones kept)")
        return 0
    if args.file is None:
        parser.error("put needs the entry's JSON file")
    try:
        entry = EntryData.model_validate(json.loads(args.file.read_text(encoding="utf-8")))
    except ValidationError as error:
        for detail in field_errors(error, ("entry",)):
            print(f"{detail['field']}: {detail['message']}", file=sys.stderr)
        return 2
    table.put_entry(entry)
    print(f"{entry.id} written; running functions answer with it within five minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
