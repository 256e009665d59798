"""docs/capacity.md: the Double 11 capacity and cost plan, computed from measured figures.

Inputs, all data: the requests, DynamoDB units and warm durations per event that `make bench`
measured (docs/performance.json, `per_event`), the T+1 settlement figures (`commission_settlement`),
the template's settings (batch sizes, reserved concurrency, memory, billing modes) and
scripts/prices.json (list prices and default quotas, each with its date and source). Nothing
here is measured: it is arithmetic on those figures, so a rerun after a code change shows what
the change does to the plan.

    python scripts/capacity.py [--figures docs/performance.json] [--prices scripts/prices.json]
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PARTITION_WCU = 1000  # per-partition write ceiling of DynamoDB (units per second)
PARTITION_RCU = 3000

# -- DynamoDB units of one request (called by the bench's botocore hooks) -------------------
WRITE_KB = 1.0
READ_KB = 4.0
#: one item of the hub's tables, for reads and updates whose size the parameters do not show
ITEM_KB = 1.0


@dataclass(frozen=True)
class Use:
    """Capacity one request spent on one table (and, for writes, the key it wrote)."""

    table: str
    kind: str  # "read" or "write"
    units: float
    key: str | None = None


def _kb(item: dict[str, Any] | None) -> float:
    return len(json.dumps(item or {}, separators=(",", ":"))) / 1024


def _write(table: str, item_kb: float, key: str | None, factor: float = 1.0) -> Use:
    return Use(table, "write", factor * max(1, math.ceil(item_kb / WRITE_KB)), key)


def _read(n_items: float, consistent: bool, factor: float = 1.0) -> float:
    units = max(1, math.ceil(n_items * ITEM_KB / READ_KB))
    return units * factor * (1.0 if consistent else 0.5)


def _pk(key_or_item: dict[str, Any] | None) -> str | None:
    value = (key_or_item or {}).get("pk")
    return next(iter(value.values())) if isinstance(value, dict) and value else None


def key_family(pk: str | None) -> str | None:
    """`LEADER#ab12#3` -> `LEADER#*#n`: keys of one kind, ids and shard numbers generalised."""
    if pk is None:
        return None
    head, *rest = pk.split("#")
    return "#".join([head, *("n" if re.fullmatch(r"\d{1,3}", p) else "*" for p in rest)])


def units_of(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> list[Use]:
    """The capacity a DynamoDB request used, per table, from what the client sent and got.

    On-demand tables bill request units by the provisioned rules: a write is 1 unit per KB of
    item (2 in a transaction, condition checks included), a strongly consistent read 1 per 4 KB,
    an eventually consistent one half, a transactional one 2. Updated items' stored sizes are
    not visible to the client, so updates count as one 1 KB item: a floor for large items.
    """
    uses: list[Use] = []
    if operation == "PutItem":
        uses.append(_write(params["TableName"], _kb(params.get("Item")), _pk(params.get("Item"))))
    elif operation in ("UpdateItem", "DeleteItem"):
        uses.append(_write(params["TableName"], ITEM_KB, _pk(params.get("Key"))))
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            (kind, body), *_ = entry.items()
            item = body.get("Item") if kind == "Put" else body.get("Key")
            size = _kb(item) if kind == "Put" else ITEM_KB
            uses.append(_write(body["TableName"], size, _pk(item), factor=2.0))
    elif operation == "BatchWriteItem":
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                put = request.get("PutRequest", {}).get("Item")
                key = put or request.get("DeleteRequest", {}).get("Key")
                uses.append(_write(table, _kb(put) if put else ITEM_KB, _pk(key)))
    elif operation == "GetItem":
        uses.append(Use(params["TableName"], "read", _read(1, bool(params.get("ConsistentRead")))))
    elif operation == "BatchGetItem":
        for table, spec in params.get("RequestItems", {}).items():
            consistent = bool(spec.get("ConsistentRead"))
            uses += [Use(table, "read", _read(1, consistent)) for _ in spec.get("Keys", [])]
    elif operation == "TransactGetItems":
        for entry in params.get("TransactItems", []):
            uses.append(Use(entry["Get"]["TableName"], "read", _read(1, True, factor=2.0)))
    elif operation in ("Query", "Scan"):
        scanned = parsed.get("ScannedCount", parsed.get("Count", 0))
        uses.append(
            Use(params["TableName"], "read", _read(scanned, bool(params.get("ConsistentRead"))))
        )
    return uses


# -- the template's settings -----------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """CloudFormation YAML with its short-form tags read as plain values."""


_Loader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    ),
)


def template_facts(path: Path) -> dict[str, Any]:
    """Per function: memory, timeout, reserved concurrency, SQS batch settings; table billing."""
    doc = yaml.load(path.read_text("utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    glob = doc.get("Globals", {}).get("Function", {})
    params = doc.get("Parameters", {})
    functions: dict[str, Any] = {}
    tables: dict[str, str] = {}
    for name, res in doc["Resources"].items():
        props = res.get("Properties", {}) or {}
        if res["Type"] == "AWS::DynamoDB::Table":
            tables[name] = props.get("BillingMode", "PROVISIONED")
        if res["Type"] != "AWS::Serverless::Function":
            continue
        reserved = props.get("ReservedConcurrentExecutions")
        if isinstance(reserved, list):  # !If [Condition, value, NoValue]
            reserved = reserved[1]
        if isinstance(reserved, str) and reserved in params:
            reserved = params[reserved].get("Default")
        sqs = [
            e["Properties"] for e in (props.get("Events") or {}).values() if e.get("Type") == "SQS"
        ]
        functions[name] = {
            "memory_mb": int(props.get("MemorySize", glob.get("MemorySize", 128))),
            "timeout_s": int(props.get("Timeout", glob.get("Timeout", 3))),
            "reserved": int(reserved) if reserved is not None else None,
            "sqs_batch": int(sqs[0].get("BatchSize", 10)) if sqs else None,
            "sqs_window_s": float(sqs[0].get("MaximumBatchingWindowInSeconds", 0)) if sqs else None,
            "sqs_max_concurrency": (sqs[0].get("ScalingConfig") or {}).get("MaximumConcurrency")
            if sqs
            else None,
        }
    return {"functions": functions, "tables": tables}


# -- the plan ----------------------------------------------------------------------------------
def _effective_batch(batch: int | None, window_s: float | None, rate: float) -> float:
    """Messages one SQS poll hands over: the batch size once the window fills it, else fewer."""
    if not batch:
        return 1.0
    return max(1.0, min(float(batch), rate * (window_s or 0.0)))


def scenario(
    rate: float, mix: dict[str, float], per_event: dict[str, Any], facts: dict[str, Any]
) -> dict[str, Any]:
    """Concurrency, requests, units and hot key writes at `rate` channel events per second."""
    fns = facts["functions"]
    missing = sorted(t for t in mix if t not in per_event)
    concurrency: dict[str, float] = defaultdict(float)
    events_per_s: dict[str, float] = defaultdict(float)
    requests: dict[str, float] = defaultdict(float)
    units: dict[str, dict[str, float]] = defaultdict(lambda: {"read": 0.0, "write": 0.0})
    hot: dict[str, float] = defaultdict(float)
    deliveries = 0.0  # bus rule -> queue deliveries per second
    for kind, share in mix.items():
        r = rate * share
        for function, fig in per_event.get(kind, {}).items():
            if function == "outside":
                continue
            events_per_s[function] += r
            concurrency[function] += r * (fig.get("warm_ms_per_invocation") or 0.0) / 1000
            for op, n in fig.get("requests_per_event", {}).items():
                requests[op] += r * n
            for table, u in fig.get("units_per_event", {}).items():
                units[table]["read"] += r * u.get("read", 0.0)
                units[table]["write"] += r * u.get("write", 0.0)
            for family, w in fig.get("hot_key_writes_per_event", {}).items():
                hot[family] += r * w
            if (fns.get(function) or {}).get("sqs_batch"):
                deliveries += r
    sqs = 0.0  # SendMessage by the rule, ReceiveMessage + DeleteMessageBatch per poll
    invocations: dict[str, float] = {}
    for function, r in events_per_s.items():
        f = fns.get(function) or {}
        batch = _effective_batch(f.get("sqs_batch"), f.get("sqs_window_s"), r)
        invocations[function] = r / batch
        if f.get("sqs_batch"):
            sqs += r + 2 * r / batch
    return {
        "rate": rate,
        "missing_event_types": missing,
        "events_per_s": dict(events_per_s),
        "concurrency": {k: round(v, 2) for k, v in sorted(concurrency.items())},
        "invocations_per_s": {k: round(v, 2) for k, v in sorted(invocations.items())},
        "requests_per_s": {k: round(v, 1) for k, v in sorted(requests.items())},
        "units_per_s": {
            k: {a: round(b, 1) for a, b in v.items()} for k, v in sorted(units.items())
        },
        "key_family_writes_per_s": {k: round(v, 1) for k, v in sorted(hot.items())},
        "bus_deliveries_per_s": round(deliveries, 1),
        "sqs_requests_per_s": round(sqs, 1),
    }


def hottest_key(s: dict[str, Any], shares: dict[str, float]) -> dict[str, Any]:
    """The key written most per second: a family's writes times the share one key of it takes."""
    rows: list[dict[str, Any]] = []
    default = shares.get("*", 0.001)
    for family, per_s in s["key_family_writes_per_s"].items():
        head = family.split("#", 1)[0]
        share = shares.get(family, shares.get(head, default))
        rows.append({"family": family, "share": share, "wcu_per_s": round(per_s * share, 1)})
    rows.sort(key=lambda r: -r["wcu_per_s"])
    top: dict[str, Any] = rows[0] if rows else {"family": None, "share": 0, "wcu_per_s": 0.0}
    return {**top, "limit": PARTITION_WCU, "ok": top["wcu_per_s"] < PARTITION_WCU, "all": rows}


def cost_per_million(
    s: dict[str, Any], facts: dict[str, Any], price: dict[str, Any], per_event: dict[str, Any]
) -> dict[str, float]:
    """Cost of a million channel events by service, in the price list's currency."""
    rate = s["rate"]
    million = 1e6 / rate  # seconds a million events take at this rate
    gb_s = sum(
        c * facts["functions"].get(f, {}).get("memory_mb", 512) / 1024
        for f, c in s["concurrency"].items()
    )
    lambda_cost = (
        gb_s * million * price["lambda_gb_second"]
        + sum(s["invocations_per_s"].values()) * million * price["lambda_request"]
    )
    reads = sum(u["read"] for u in s["units_per_s"].values()) * million
    writes = sum(u["write"] for u in s["units_per_s"].values()) * million
    puts = s["requests_per_s"].get("eventbridge.PutEvents", 0.0) * million
    out = {
        "api_gateway": 1e6 * price["http_api_request"],
        "lambda": lambda_cost,
        "dynamodb": reads * price["dynamodb_read_request_unit"]
        + writes * price["dynamodb_write_request_unit"],
        "eventbridge": puts * price["eventbridge_event"],
        "sqs": s["sqs_requests_per_s"] * million * price["sqs_request"],
    }
    out["total"] = sum(out.values())
    return {k: round(v, 2) for k, v in out.items()}


def settlement(
    figures: dict[str, Any], inputs: dict[str, Any], facts: dict[str, Any], shards: int
) -> dict[str, Any]:
    """The T+1 run for many active leaders: one work message per shard, each paging its leaders."""
    measured = figures.get("commission_settlement") or {}
    leaders = inputs["settlement"]["active_leaders"]
    per_leader = measured["alone"]["total"] / measured["active_leaders"]
    request_s = inputs["settlement"]["dynamodb_request_ms"] / 1000
    per_shard_s = leaders / shards * per_leader * request_s
    work = facts["functions"].get("CommissionWorkFunction", {})
    timeout = work.get("timeout_s", 900)
    budget = timeout - inputs["settlement"]["reserve_s"]
    return {
        "active_leaders": leaders,
        "shards": shards,
        "leaders_per_shard": leaders // shards,
        "requests_per_leader": round(per_leader, 2),
        "request_ms": inputs["settlement"]["dynamodb_request_ms"],
        "seconds_per_shard": round(per_shard_s),
        "timeout_s": timeout,
        "invocations_per_shard": max(1, math.ceil(per_shard_s / budget)),
        "concurrency": shards,
        "requests": round(leaders * per_leader),
    }


def plan(figures: dict[str, Any], inputs: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Every number of docs/capacity.md, from the figures, the inputs and the template."""
    from omnihub.leaders.days import ACTIVE_SHARDS

    per_event = figures["per_event"]
    mix = inputs["mix"]
    out: dict[str, Any] = {"scenarios": {}}
    for name, rate in inputs["rates"].items():
        s = scenario(rate, mix, per_event, facts)
        s["hottest_key"] = hottest_key(s, inputs["hot_key_share"])
        s["cost_per_million_events"] = {
            p: cost_per_million(s, facts, price, per_event) for p, price in inputs["prices"].items()
        }
        s["quotas"] = quotas(s, facts, inputs["quotas"])
        out["scenarios"][name] = s
    if figures.get("commission_settlement") and "alone" in figures["commission_settlement"]:
        out["settlement"] = settlement(figures, inputs, facts, ACTIVE_SHARDS)
    return out


def quotas(
    s: dict[str, Any], facts: dict[str, Any], limits: dict[str, Any]
) -> list[dict[str, Any]]:
    """Demand against each default quota per partition, the tightest first."""
    rows = []
    total = sum(s["concurrency"].values())
    reserved = {f: v["reserved"] for f, v in facts["functions"].items() if v.get("reserved")}
    for partition, q in limits.items():
        rows.append(("Lambda concurrency, account", total, q["lambda_concurrency"], partition))
        for f, cap in reserved.items():
            rows.append(
                (f"Lambda reserved concurrency, {f}", s["concurrency"].get(f, 0.0), cap, partition)
            )
        rows.append(
            (
                "EventBridge PutEvents requests/s",
                s["requests_per_s"].get("eventbridge.PutEvents", 0.0),
                q["eventbridge_put_events_per_s"],
                partition,
            )
        )
        rows.append(
            (
                "EventBridge rule invocations/s",
                s["bus_deliveries_per_s"],
                q["eventbridge_invocations_per_s"],
                partition,
            )
        )
        for table, u in s["units_per_s"].items():
            rows.append(
                (f"DynamoDB WRU/s, {table}", u["write"], q["dynamodb_table_wru_per_s"], partition)
            )
            rows.append(
                (f"DynamoDB RRU/s, {table}", u["read"], q["dynamodb_table_rru_per_s"], partition)
            )
        rows.append(
            (
                "SQS standard queue requests/s",
                s["sqs_requests_per_s"],
                q.get("sqs_standard_requests_per_s"),
                partition,
            )
        )
        hot = s["hottest_key"]
        rows.append(
            (
                f"DynamoDB WCU/s on one key ({hot['family']})",
                hot["wcu_per_s"],
                PARTITION_WCU,
                partition,
            )
        )
    out = [
        {
            "what": w,
            "partition": p,
            "demand": round(d, 1),
            "quota": lim,
            "use": round(d / lim, 3) if lim else 0.0,
        }
        for w, d, lim, p in rows
    ]
    return sorted(out, key=lambda r: -r["use"])


# -- the report --------------------------------------------------------------------------------
def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*lines, *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def render(p: dict[str, Any], inputs: dict[str, Any], facts: dict[str, Any]) -> str:
    """docs/capacity.md from a plan."""
    names = list(p["scenarios"])
    peak, day = p["scenarios"][names[0]], p["scenarios"][names[-1]]
    out = [
        "# Capacity and cost plan",
        "",
        "Written by `python scripts/capacity.py` (run by `make bench` after the measurements)",
        "from docs/performance.json (requests, DynamoDB units and warm time per event, measured",
        "on the local stack with botocore hooks) and the inputs in scripts/prices.json (list",
        "prices and default quotas, dated and sourced). Every figure is arithmetic on those",
        "inputs; change an input and rerun.",
        "",
        "Method and its limits: one Lambda invocation per event at the measured warm time",
        "(moto in process: faster than DynamoDB over the network for one request, slower in",
        "Python; batching of 10 on the SQS consumers makes the real time per event smaller), so",
        "concurrency is events/s x seconds per event. DynamoDB units count 1 KB per written item",
        "and 4 KB per read (the hub's items are smaller); PutEvents calls are counted one call",
        "per event as the bench drains them one by one (the forwarder batches on a busy stream).",
        "",
        "Event mix (share of channel events): "
        + ", ".join(f"{k} {v:.1%}" for k, v in inputs["mix"].items())
        + ".",
        "",
    ]
    for name in ("missing_event_types",):
        if peak[name]:
            out += [f"Not measured in this run (left out): {', '.join(peak[name])}.", ""]
    out += ["## Lambda concurrency per function", ""]
    fns = sorted(set(peak["concurrency"]) | set(day["concurrency"]))
    out += _table(
        [
            "function",
            *(f"{n} ({p['scenarios'][n]['rate']:,.0f}/s)" for n in names),
            "invocations/s at peak",
            "reserved",
            "SQS batch / window",
        ],
        [
            [
                f,
                *(_n(p["scenarios"][n]["concurrency"].get(f, 0.0)) for n in names),
                _n(peak["invocations_per_s"].get(f, 0.0)),
                facts["functions"].get(f, {}).get("reserved") or "shared",
                (
                    lambda x: (
                        f"{x['sqs_batch']} / {x['sqs_window_s']:g} s"
                        if x.get("sqs_batch")
                        else "stream or API"
                    )
                )(facts["functions"].get(f, {})),
            ]
            for f in fns
        ]
        + [
            [
                "total",
                *(_n(sum(p["scenarios"][n]["concurrency"].values())) for n in names),
                "",
                "",
                "",
            ]
        ],
    )
    out += ["## DynamoDB request units per table (on-demand)", ""]
    tables = sorted(peak["units_per_s"])
    out += _table(
        ["table", *(f"{n} RRU/s" for n in names), *(f"{n} WRU/s" for n in names), "billing"],
        [
            [
                t,
                *(_n(p["scenarios"][n]["units_per_s"].get(t, {}).get("read", 0.0)) for n in names),
                *(_n(p["scenarios"][n]["units_per_s"].get(t, {}).get("write", 0.0)) for n in names),
                facts["tables"].get(t, "?"),
            ]
            for t in tables
        ],
    )
    hot = peak["hottest_key"]
    out += [
        "### The hottest key",
        "",
        "Writes per second to one partition key: each key family's writes at peak (all events",
        "of a kind on one entity, as the bench's repeats are) times the share of them one key can",
        "take (scripts/prices.json `hot_key_share`: a star leader's share of orders...).",
        f"Hottest at peak: `{hot['family']}` at {hot['wcu_per_s']:,.1f} WCU/s against the"
        f" {PARTITION_WCU:,} WCU/s of a partition: {'inside' if hot['ok'] else 'OVER'}.",
        "",
    ]
    out += _table(
        ["key family", "writes/s if one key took all", "share one key takes", "WCU/s on that key"],
        [
            [
                f"`{r['family']}`",
                _n(r["wcu_per_s"] / r["share"]) if r["share"] else 0,
                r["share"],
                _n(r["wcu_per_s"]),
            ]
            for r in hot["all"][:8]
        ],
    )
    out += ["## Against the default quotas", ""]
    for name in names:
        s = p["scenarios"][name]
        out += [f"{name} ({s['rate']:,.0f} events/s), tightest first:", ""]
        out += _table(
            ["quota", "partition", "demand", "default", "use"],
            [
                [
                    q["what"],
                    q["partition"],
                    _n(q["demand"]),
                    f"{q['quota']:,}" if q["quota"] else "none",
                    f"{q['use']:.0%}" if q["quota"] else "-",
                ]
                for q in s["quotas"][:10]
            ],
        )
    out += ["## Cost per million channel events", ""]
    for partition, price in inputs["prices"].items():
        out += [
            f"{partition}: {price['region']}, {price['currency']}, list prices of"
            f" {price['date']} ({price['source']}).",
            "",
        ]
        services = list(peak["cost_per_million_events"][partition])
        out += _table(
            ["service", *names],
            [
                [
                    svc,
                    *(
                        f"{p['scenarios'][n]['cost_per_million_events'][partition][svc]:,.2f}"
                        for n in names
                    ),
                ]
                for svc in services
            ],
        )
    for partition, why in inputs.get("prices_not_filled", {}).items():
        out += [f"{partition}: not computed, prices not filled in. {why}", ""]
    if "settlement" in p:
        st = p["settlement"]
        out += [
            "## T+1 settlement for the active leaders",
            "",
            f"`commission-settlement` queues one work message per shard of the active-leader index"
            f" ({st['shards']} shards), so {st['active_leaders']:,} active leaders fan out to"
            f" {st['concurrency']} `CommissionWorkFunction` invocations in parallel,"
            f" {st['leaders_per_shard']:,} leaders each. The measured run costs"
            f" {st['requests_per_leader']} DynamoDB requests per active leader (flat in history:"
            f" docs/performance.md), {st['requests']:,} in all; at {st['request_ms']} ms a request"
            f" a shard takes about {st['seconds_per_shard']:,} s against a {st['timeout_s']} s"
            f" timeout: {st['invocations_per_shard']} invocation(s) per shard. It stays inside the"
            " 15 minutes because the work function stops paging with 30 s left and queues the rest"
            " of its shard as a new message with its cursor (idempotent: a repeat costs reads);"
            " more leaders make the run longer, not any invocation.",
            "",
        ]
    out += [
        "## What breaks first, and what the template does",
        "",
    ]
    top = [q for q in peak["quotas"] if q["quota"]][:3]
    for q in top:
        out.append(
            f"- {q['what']} ({q['partition']}): {_n(q['demand'])} of {q['quota']:,}"
            f" ({q['use']:.0%})."
        )
    out += [
        "",
        "- Lambda: the webhook has reserved concurrency (WebhookReservedConcurrency) so a flood",
        "  of channel events cannot starve the staff API; the other functions share the account's",
        "  concurrency, so its quota is raised before Double 11 (Service Quotas, both partitions).",
        "- SQS consumers: batches of 10 within a 1 s window; the event sources set no maximum",
        "  concurrency, so a backlog scales pollers up to the account quota; where a table is",
        "  the limit, ScalingConfig MaximumConcurrency on that source is the lever.",
        "- DynamoDB: every table is on-demand (no capacity to provision; a new table serves",
        "  about 4,000 WRU / 12,000 RRU at once and doubles its previous peak within 30 minutes,",
        "  so pre-warm it, e.g. with warm throughput, before the peak). The per-table default",
        "  of 40,000 units each way is a quota to raise where the table above nears it.",
        "- EventBridge: PutEvents is a per-account, per-region quota, much smaller in aws-cn;",
        "  the quota request comes before the day, and the forwarder's batches of 10 entries",
        "  divide the calls when the stream is busy.",
        "",
    ]
    return "\n".join(out)


def summary(p: dict[str, Any]) -> dict[str, Any]:
    """The few figures `make bench` prints and keeps in docs/performance.json."""
    out: dict[str, Any] = {}
    for name, s in p["scenarios"].items():
        first = next((q for q in s["quotas"] if q["quota"]), None)
        out[name] = {
            "events_per_s": s["rate"],
            "lambda_concurrency": round(sum(s["concurrency"].values()), 1),
            "hottest_key_wcu_per_s": s["hottest_key"]["wcu_per_s"],
            "hottest_key_ok": s["hottest_key"]["ok"],
            "tightest_quota": first,
            "cost_per_million_events": {
                k: v["total"] for k, v in s["cost_per_million_events"].items()
            },
        }
    if "settlement" in p:
        out["settlement"] = p["settlement"]
    return out


def run(figures: dict[str, Any], prices: Path, template: Path, doc: Path | None) -> dict[str, Any]:
    """Compute the plan, write docs/capacity.md (unless doc is None) and return its summary."""
    inputs = json.loads(prices.read_text("utf-8"))
    facts = template_facts(template)
    p = plan(figures, inputs, facts)
    if doc is not None:
        doc.write_text(render(p, inputs, facts), encoding="utf-8")
    return summary(p)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, default=ROOT / "docs" / "performance.json")
    parser.add_argument("--prices", type=Path, default=ROOT / "scripts" / "prices.json")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "capacity.md")
    args = parser.parse_args()
    figures = json.loads(args.figures.read_text("utf-8"))
    result = run(figures, args.prices, args.template, args.out)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
