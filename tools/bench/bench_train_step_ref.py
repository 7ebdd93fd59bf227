#!/usr/bin/env python3
"""PyTorch eager twin of mindgap's training step, driven by tools/bench/bench_train_step.

It loads the weights and the batches that the C++ side wrote (built by mindgap's real data
path), then waits on stdin so that the two sides can be timed alternately in one run:
  `run N`  -> N steps over the batches in turn; prints `secs=<s> faults=<minor page faults>
             loss=<loss of the first of the N steps>`
  `quit`   -> exits.
The step does the same work as mindgap's `train_step`: hidden states of the whole batch, the
unembedding only at positions with a non-zero weight, the weighted mean of -log p(target),
backward, global-norm clipping, AdamW with weight decay on matrices only.
"""
import argparse
import json
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_model_ref import Gpt  # noqa: E402  (the same GPT as mindgap's, in PyTorch)

DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    """A few lines instead of a dependency: 8-byte header length, JSON header, raw data."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    data = memoryview(blob)[8 + n :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        lo, hi = meta["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=DTYPES[meta["dtype"]])
        out[name] = t.reshape(meta["shape"])
    return out


def mindgap_to_reference(state):
    """mindgap's parameter names -> bench_model_ref's (only the attention names differ)."""
    return {k.replace("attn.qkv", "qkv").replace("attn.proj", "attn_proj"): v for k, v in state.items()}


def reference_inputs():
    """What every reference of the benchmarks starts with: --dir (where the C++ side wrote its
    inputs) and --threads, torch's thread count set, and the directory's meta.json."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="where the benchmark wrote the weights and inputs")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    return a, json.load(open(f"{a.dir}/meta.json"))


def load_model(directory, meta):
    """The GPT of meta.json with the weights of <directory>/model.safetensors."""
    model = Gpt(meta["vocab"], meta["n_layer"], meta["n_head"], meta["d_model"], meta["max_seq"], meta["pos"])
    model.load_state_dict(mindgap_to_reference(read_safetensors(f"{directory}/model.safetensors")))
    return model


def make_adamw(model, lr, weight_decay):
    """AdamW in mindgap's two groups: weight decay on matrices only."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr
    )


def train_step(model, opt, inputs, targets, weights, clip):
    """mindgap's train_step: logits only where the weight is non-zero, the weighted mean of
    -log p(target), backward, global-norm clipping, one optimizer step. Returns the loss."""
    opt.zero_grad(set_to_none=True)
    w = weights.reshape(-1)
    idx = w.nonzero().reshape(-1)
    h = model.hidden(inputs).reshape(-1, model.wte.weight.shape[1]).index_select(0, idx)
    nll = F.cross_entropy(F.linear(h, model.wte.weight), targets.reshape(-1).index_select(0, idx), reduction="none")
    loss = (nll * w.index_select(0, idx)).sum() / w.sum()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.item()


def main():
    a, meta = reference_inputs()
    model = load_model(a.dir, meta)
    assert model.wte.weight.shape[0] == meta["vocab"]
    opt = make_adamw(model, meta["lr"], meta["weight_decay"])
    batches = [read_safetensors(f"{a.dir}/batch-{i}.safetensors") for i in range(meta["batches"])]
    clip = meta["grad_clip"]

    def step(b):
        return train_step(model, opt, b["inputs"], b["targets"], b["weights"], clip)

    turn = 0
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        n = int(cmd[1])
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        first = None
        for _ in range(n):
            loss = step(batches[turn % len(batches)])
            first = loss if first is None else first
            turn += 1
        secs = time.perf_counter() - t0
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
        print(f"secs={secs:.6f} faults={faults} loss={first:.7f}", flush=True)


if __name__ == "__main__":
    main()
