"""Eval throughput on CRUXEval-O with a random-init tiny model, measured in one run:

1. generation: ``HFEngine`` batched (``--batch-size``, left padding, length-sorted batches) vs the
   same engine one prompt at a time (batch size 1), greedy, ``--max-tokens`` new tokens, over the
   first ``--limit`` items (the one-by-one baseline runs ``--serial-limit`` items and is scaled);
2. scoring: ``CRUXEval.score`` (checks batched through stepcode's warm sandbox pool) vs the official
   harness style (one fresh ``multiprocessing.Process`` per check, 3 s timeout, as
   cruxeval's ``evaluation`` does), on the gold answers, so every check really runs.

    python benchmarks/eval_throughput.py [--data PATH] [--limit N] [--max-tokens T]

Use ``--limit 800`` for the whole benchmark. The tiny model's answers are noise: this measures
speed, not accuracy.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from pathlib import Path

from stepcode.eval.benchmarks import get_benchmark
from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rollout.engines import GenerationParams, HFEngine

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/benchmarks/cruxeval/cruxeval.jsonl"


def _check(program: str, q: mp.Queue) -> None:  # the official harness's unsafe exec, in a child
    try:
        exec(program, {})  # noqa: S102
        q.put(True)
    except BaseException:
        q.put(False)


def score_process_per_check(items: list, answers: list[str], timeout: float = 3.0) -> int:
    """Official style: one Process per generation, joined with a timeout."""
    ok = 0
    for it, a in zip(items, answers, strict=True):
        q: mp.Queue = mp.Queue()
        p = mp.Process(
            target=_check, args=(f"{it.data['code']}\nassert {it.data['output']} == {a}", q)
        )
        p.start()
        p.join(timeout)
        if p.is_alive():
            p.kill()
        ok += (not q.empty()) and q.get()
    return ok


def time_generation(engine: HFEngine, prompts: list[str], params: GenerationParams) -> float:
    t = time.perf_counter()
    engine.generate(prompts, params)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--limit", type=int, default=64, help="items (800 = all of CRUXEval-O)")
    ap.add_argument("--serial-limit", type=int, default=16, help="items for the 1-by-1 baseline")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    bench = get_benchmark("cruxeval-o")
    items = bench.load(args.data, args.limit)
    prompts = [bench.prompt(it) for it in items]
    tok = train_tokenizer([it.data["code"] for it in items] + prompts[:1], vocab_size=2048)
    model = build_tiny_model(tok, seed=0, max_positions=4096).eval()
    params = GenerationParams(max_tokens=args.max_tokens, stop=("[/ANSWER]",))
    batched = HFEngine(model, tok, batch_size=args.batch_size)
    single = HFEngine(model, tok, batch_size=1)
    time_generation(batched, prompts[:2], params)  # warm-up
    n_serial = min(args.serial_limit, len(prompts))
    t_batched = time_generation(batched, prompts, params)
    t_single = time_generation(single, prompts[:n_serial], params) * len(prompts) / n_serial

    gold = {it.item_id: [it.data["output"]] for it in items}
    t = time.perf_counter()
    rep = bench.score(items, gold)
    t_pool = time.perf_counter() - t
    t = time.perf_counter()
    ok = score_process_per_check(items, [it.data["output"] for it in items])
    t_proc = time.perf_counter() - t

    n = len(items)
    print(f"CRUXEval-O, {n} items, tiny model ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M "
          f"params), greedy, {args.max_tokens} new tokens")  # fmt: skip
    print(f"{'stage':<34}{'seconds':>10}{'items/s':>10}")
    rows = [
        (f"generate batched (bs={args.batch_size})", t_batched),
        (f"generate one-by-one (scaled from {n_serial})", t_single),
        (f"score: pool batch (pass@1={rep.summary['pass@1']:.1f})", t_pool),
        (f"score: Process per check ({ok}/{n} ok)", t_proc),
    ]
    for name, sec in rows:
        print(f"{name:<34}{sec:>10.2f}{n / sec:>10.1f}")
    print(f"generation speed-up batched vs one-by-one: {t_single / t_batched:.1f}x (target >= 5x)")
    print(f"scoring speed-up pool vs Process per check: {t_proc / t_pool:.1f}x")


if __name__ == "__main__":
    main()
