#!/usr/bin/env python3
"""PyTorch twin of one `mindgap improve` round, driven by tools/bench/bench_round.

It reads what bench_round wrote (meta.json, model.safetensors, distill.safetensors) and waits on
stdin so that the two sides can be timed alternately in one run:
  `round` -> one round from round-0000's weights; prints one JSON line
             {"secs": total, "stages": {"generate": s, "verify": s, "distill": s, "eval": s}}
  `quit`  -> exits.
A round does the work of mindgap's: load the weights; sample every prompt `samples` times with
a KV cache (tools/bench/bench_generate_ref.py's loop), in the same chunks; a majority vote per prompt
over the sampled token sequences, keeping those with at least `keep_share` agreement; the same
number of distillation steps (tools/bench/bench_train_step_ref.py's step, fresh AdamW, the batches
and learning rates mindgap used); greedy decoding of the held-out prompts, compared with their
answers; and a save of the weights and the optimizer's state.
"""
import collections
import json
import os
import sys
import tempfile
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_generate_ref import EagerDecoder  # noqa: E402
from bench_train_step_ref import load_model, make_adamw, read_safetensors, reference_inputs, train_step  # noqa: E402


def answers_of(out, end_id):
    """Generated token rows ([B, steps], -1 after a row ended) -> token tuples before the end."""
    rows = []
    for r in out.tolist():
        ans = []
        for t in r:
            if t < 0 or t == end_id:
                break
            ans.append(t)
        rows.append(tuple(ans))
    return rows


def main():
    a, meta = reference_inputs()
    gen, dis, ev = meta["generate"], meta["distill"], meta["eval"]
    batches = read_safetensors(f"{a.dir}/distill.safetensors")
    end_id, pad_id = meta["end_id"], meta["pad_id"]
    out_dir = tempfile.mkdtemp(prefix="bench_round_ref.")

    def one_round():
        stages = {}
        t_all = time.perf_counter()
        model = load_model(a.dir, meta)

        t0 = time.perf_counter()
        model.eval()
        samples = []
        with torch.inference_mode():
            dec = EagerDecoder(model, meta)
            for chunk in gen["chunks"]:
                out = dec.generate(chunk, gen["steps"], gen["temperature"], True, end_id, pad_id)
                samples += answers_of(out, end_id)
        stages["generate"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        kept = []
        n = gen["samples"]
        for p in range(0, len(samples), n):
            answer, votes = collections.Counter(samples[p : p + n]).most_common(1)[0]
            if votes >= gen["keep_share"] * n:
                kept.append((p // n, answer))
        stages["verify"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        model.train()
        opt = make_adamw(model, dis["lr"][0], dis["weight_decay"])
        for step in range(dis["steps"]):
            for g in opt.param_groups:
                g["lr"] = dis["lr"][step]
            # train_step reads the loss back, as mindgap does at every step (progress, divergence).
            train_step(model, opt, batches[f"inputs-{step}"], batches[f"targets-{step}"], batches[f"weights-{step}"],
                       dis["grad_clip"])
        stages["distill"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        model.eval()
        correct = 0
        with torch.inference_mode():
            dec = EagerDecoder(model, meta)
            prompts, answers = ev["prompts"], ev["answers"]
            for lo in range(0, len(prompts), ev["max_rows"]):
                out = dec.generate(prompts[lo : lo + ev["max_rows"]], ev["steps"], 0.0, True, end_id, pad_id)
                got = answers_of(out, end_id)
                correct += sum(g == tuple(t) for g, t in zip(got, answers[lo : lo + ev["max_rows"]]))
        stages["eval"] = time.perf_counter() - t0

        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, os.path.join(out_dir, "round.pt"))
        stages["kept"] = len(kept)
        stages["greedy"] = correct / max(1, len(ev["prompts"]))
        return time.perf_counter() - t_all, stages

    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        secs, stages = one_round()
        print(json.dumps({"secs": secs, "stages": stages}), flush=True)


if __name__ == "__main__":
    main()
