"""The knowledge base's table: one item per FAQ entry, edited entry by entry.

Every item sits under one partition (`pk = "faq"`), so loading the whole base is one Query
(a few reads every five minutes per function instance; no Scan): `sk = "entry#<id>"` holds
an entry's fields as plain attributes (readable and editable in the console), `sk = "filler"`
the words that name no subject. Validation is the domain's (`EntryData`): `put_entry` writes
only a validated entry, and the reader re-validates whatever it finds.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from omnihub.adapters.dynamo import from_attributes, to_attributes
from omnihub.feedback.knowledge import EntryData, KnowledgeFile, StoredKnowledge

PARTITION = "faq"
ENTRY_PREFIX = "entry#"
FILLER_KEY = "filler"


class KnowledgeTable:
    def __init__(self, client: Any, table: str) -> None:
        self._client, self._table = client, table

    def read(self) -> StoredKnowledge:
        """Every entry (raw, for the cache to validate) and the filler words."""
        entries: dict[str, dict[str, Any]] = {}
        filler: list[Any] | None = None
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": PARTITION}},
        }
        while True:
            page = self._client.query(**kwargs)
            for raw in page.get("Items", []):
                item = from_attributes(raw)
                sk = str(item.pop("sk"))
                item.pop("pk", None)
                if sk == FILLER_KEY:
                    filler = list(item.get("terms", []))
                elif sk.startswith(ENTRY_PREFIX):
                    entries[sk.removeprefix(ENTRY_PREFIX)] = item
            if "LastEvaluatedKey" not in page:
                return StoredKnowledge(entries, filler)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_entry(self, entry: EntryData, *, only_new: bool = False) -> bool:
        """Write one validated entry; with `only_new`, leave an existing one as it is (a seed
        never overwrites what the service team edited). True when written."""
        item = {"pk": PARTITION, "sk": ENTRY_PREFIX + entry.id, **entry.model_dump()}
        return self._put(item, only_new)

    def seed(self, data: KnowledgeFile) -> int:
        """Load the seed file's entries and filler that the table lacks; returns how many."""
        written = self._put({"pk": PARTITION, "sk": FILLER_KEY, "terms": data.filler}, True)
        return int(written) + sum(self.put_entry(e, only_new=True) for e in data.entries)

    def _put(self, item: dict[str, Any], only_new: bool) -> bool:
        kwargs: dict[str, Any] = {"TableName": self._table, "Item": to_attributes(item)}
        if only_new:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            self._client.put_item(**kwargs)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True
