"""Cold start and warm throughput of the feedback classifier against jieba's default dictionary.

    PYTHONPATH=layers/hub python scripts/bench_classifier.py [--runs 5] [--json PATH]

Every cold figure comes from a fresh interpreter (median of --runs), timed inside the child from
before the first import to the first answer:
- baseline: `import jieba; jieba.lcut(text)` with jieba's default dictionary;
- classifier: `from omnihub.feedback.classifier import classify; classify(text)`.
Both in two modes: "source", with no .pyc anywhere (PYTHONDONTWRITEBYTECODE=1 is set machine-wide
and `sam build` ships a layer without bytecode), and "compiled", with bytecode cached beforehand
(what a layer built with `compileall` gives). Bytecode goes to a temporary PYTHONPYCACHEPREFIX,
so nothing is written next to the sources. Warm throughput: texts per second over about 2,000
dev-split reviews after the first call, in one fresh process each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "hub"
sys.path.insert(0, str(Path(__file__).resolve().parent))

TEXT = "买的五常大米打开有一股霉味，米里还有虫，怀疑变质了"
#: Issue 16's goals: the first answer in a fresh process (compiled), warm texts per second.
GOALS = {"first_ms": 100, "warm_per_second": 5000}
FALLBACK_TEXTS = (
    "花生油有哈喇味",
    "米饭很香，软糯好吃，还会再买",
    "物流太慢了，包装也压坏了",
    "请问开封后能放多久？",
    "建议出个小包装",
    "没有异味，放心吃",
)

COLD = {
    "baseline": textwrap.dedent(
        """
        import json, resource, sys, time
        t0 = time.perf_counter()
        import jieba
        t1 = time.perf_counter()
        jieba.lcut(sys.argv[1])
        t2 = time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"import_ms": (t1 - t0) * 1e3, "first_ms": (t2 - t1) * 1e3,
                          "total_ms": (t2 - t0) * 1e3, "rss_mb": rss / 1024}))
        """
    ),
    "classifier": textwrap.dedent(
        """
        import json, resource, sys, time
        t0 = time.perf_counter()
        from omnihub.feedback.classifier import classify
        t1 = time.perf_counter()
        classify(sys.argv[1])
        t2 = time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"import_ms": (t1 - t0) * 1e3, "first_ms": (t2 - t1) * 1e3,
                          "total_ms": (t2 - t0) * 1e3, "rss_mb": rss / 1024}))
        """
    ),
}

WARM = {
    "baseline": "import jieba\ncall = jieba.lcut\n",
    "classifier": "from omnihub.feedback.classifier import classify as call\n",
}
WARM_LOOP = textwrap.dedent(
    """
    import json, sys, time
    texts = json.load(open(sys.argv[1], encoding="utf-8"))
    call(texts[0])
    t0 = time.perf_counter()
    for text in texts:
        call(text)
    elapsed = time.perf_counter() - t0
    print(json.dumps({"texts": len(texts), "per_second": len(texts) / elapsed}))
    """
)


def _env(pycache: Path, write_bytecode: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(LAYER), "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(code: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        check=True,
        timeout=300,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def cold(name: str, mode: str, runs: int, pycache: Path) -> dict[str, float]:
    """Median of `runs` fresh processes; 'compiled' first fills the bytecode cache once."""
    if mode == "compiled":
        _run(COLD[name], [TEXT], _env(pycache, write_bytecode=True))
    samples = [_run(COLD[name], [TEXT], _env(pycache, write_bytecode=False)) for _ in range(runs)]
    return {k: round(statistics.median(s[k] for s in samples), 1) for k in samples[0]}


def bench_texts(limit: int) -> list[str]:
    """About `limit` dev-split reviews (never trained on), or a fixed list without the data."""
    from train_classifier import DEFAULT_DATA, is_dev, load_rows

    if DEFAULT_DATA.exists():
        texts = [r["text"] for r in load_rows(DEFAULT_DATA) if is_dev(r["text"])]
        return texts[:limit]
    return [FALLBACK_TEXTS[i % len(FALLBACK_TEXTS)] for i in range(limit)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {
        "text": TEXT,
        "runs": args.runs,
        "goals": GOALS,
        "cold": {},
        "warm": {},
    }
    with tempfile.TemporaryDirectory(prefix="omnihub-bench-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts = bench_texts(args.texts)
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        for mode in ("source", "compiled"):
            pycache = Path(tmp) / f"pycache-{mode}"
            for name in ("baseline", "classifier"):
                report["cold"][f"{name}/{mode}"] = cold(name, mode, args.runs, pycache)
        warm_cache = Path(tmp) / "pycache-compiled"
        for name in ("baseline", "classifier"):
            env = _env(warm_cache, write_bytecode=False)
            result = _run(WARM[name] + WARM_LOOP, [str(texts_file)], env)
            report["warm"][name] = {
                "texts": result["texts"],
                "per_second": round(result["per_second"]),
            }

    print(f"Cold start, fresh process, median of {args.runs} (ms; text: {TEXT})")
    print(f"  {'what/mode':<22}{'import':>9}{'first call':>12}{'total':>9}{'peak RSS MB':>13}")
    for key, fig in report["cold"].items():
        print(
            f"  {key:<22}{fig['import_ms']:>9.1f}{fig['first_ms']:>12.1f}"
            f"{fig['total_ms']:>9.1f}{fig['rss_mb']:>13.1f}"
        )
    print("  baseline = import jieba + jieba.lcut (default dictionary);")
    print("  classifier = import omnihub.feedback.classifier + classify (compact dictionary)")
    print("Warm throughput (one process, after the first call)")
    for name, fig in report["warm"].items():
        what = "jieba.lcut, default dict" if name == "baseline" else "classify, full result"
        print(f"  {name:<12}{fig['per_second']:>8} texts/s over {fig['texts']} ({what})")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
