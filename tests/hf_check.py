#!/usr/bin/env python3
"""Loads `mindgap export --format hf` directories with stock transformers classes (no custom
code) and compares each with what mindgap computed, as written by tests/test_hf_export.cpp
(arguments: pairs of an export directory and its expectations file):
  - the tokenizer: every text encodes to mindgap's ids and decodes back to the text;
  - the logits of a right-padded batch of prompts, at every real position, to a tolerance;
  - greedy answers (generate, do_sample=False) equal mindgap's greedy answers.
Exit 0 when all agree, 1 when something differs, 77 when transformers is not installed."""
import json
import sys

try:
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
except ImportError as e:
    print(f"skip: transformers is not importable here ({e}); tools/setup.sh installs it")
    sys.exit(77)


def mindgap_decode(tok, ids):
    """mindgap's decode of generated ids: <pad> reads as nothing, <unk> as SentencePiece's ' ⁇ '."""
    out = []
    for i in ids:
        if i == tok.pad_token_id:
            continue
        out.append(" \u2047 " if i == tok.unk_token_id else tok.decode([i]))
    return "".join(out)


def check(hf_dir, expect_path):
    """The failures of one export, as lines; prints what it measured."""
    with open(expect_path, encoding="utf-8") as f:
        exp = json.load(f)
    tok = AutoTokenizer.from_pretrained(hf_dir)
    model = AutoModelForCausalLM.from_pretrained(hf_dir).eval()
    print(f"{hf_dir}: transformers {transformers.__version__}, {type(model).__name__}, {type(tok).__name__}")
    failures = []

    for t in exp["texts"]:
        ids = tok(t["text"])["input_ids"]
        if ids != t["ids"]:
            failures.append(f"tokenizer: {t['text']!r} -> {ids}, mindgap {t['ids']}")
        elif tok.decode(ids) != t["text"]:
            failures.append(f"tokenizer: {t['text']!r} decodes to {tok.decode(ids)!r}")
    print(f"tokenizer: {len(exp['texts'])} texts checked")

    prompts = exp["prompts"]
    width = max(len(p["ids"]) for p in prompts)
    ids = torch.full((len(prompts), width), tok.pad_token_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, : len(p["ids"])] = torch.tensor(p["ids"])
        mask[i, : len(p["ids"])] = 1
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
    worst = 0.0
    for i, p in enumerate(prompts):
        want = torch.tensor(p["logits"], dtype=torch.float32)
        worst = max(worst, (logits[i, : len(p["ids"])] - want).abs().max().item())
    print(f"logits: max |transformers - mindgap| = {worst:.3g} over {len(prompts)} prompts (tolerance {exp['tolerance']})")
    if not worst <= exp["tolerance"]:
        failures.append(f"logits differ by {worst}")

    agree = 0
    for p in prompts:
        x = torch.tensor([p["ids"]])
        with torch.no_grad():
            out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                                 max_new_tokens=exp["max_new_tokens"], eos_token_id=exp["end_id"],
                                 pad_token_id=tok.pad_token_id)
        new = out[0, x.shape[1]:].tolist()
        if exp["end_id"] in new:
            new = new[: new.index(exp["end_id"])]
        answer = mindgap_decode(tok, new)
        if answer == p["greedy"]:
            agree += 1
        else:
            failures.append(f"greedy: {p['text']!r} -> {answer!r}, mindgap {p['greedy']!r}")
    print(f"greedy: {agree}/{len(prompts)} answers agree")
    return failures


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        print("usage: hf_check.py HF_DIR EXPECT_JSON [HF_DIR EXPECT_JSON ...]")
        return 2
    failures = []
    for hf_dir, expect_path in zip(args[::2], args[1::2]):
        failures += [f"{hf_dir}: {f}" for f in check(hf_dir, expect_path)]
    for f in failures[:20]:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
