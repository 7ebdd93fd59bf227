#!/usr/bin/env python3
"""The two decode references of tools/bench/bench_generate, on the weights and prompts it wrote:

  eager: a plain PyTorch KV-cache loop over mindgap's GPT (tools/bench/bench_model_ref.py): the
         same left padding, per-row positions and pad mask as models/decoder.h, a preallocated
         cache written in place, inference mode, one token per row per step.
  hf:    transformers' generate() on the same model exported as a Hugging Face directory
         (left padding and an attention mask; eos as the end-of-answer token).

Both wait on stdin so that the sides can be timed alternately in one run:
  `<side> <workload>`  -> runs the workload once; prints `secs=<s> tokens=<n> hash=<h>`, where
                          n counts generated tokens before each row's end and h is a checksum
                          of them (greedy workloads agree with mindgap's token for token)
  `quit`               -> exits.
A workload (workloads.json) is a list of chunks of token-id prompts, a step count, a
temperature (0: greedy) and whether rows stop at the end token; chunks run one after another
as mindgap's generate stage runs them.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_train_step_ref import load_model, reference_inputs  # noqa: E402


def left_pad(prompts, pad_id):
    longest = max(len(p) for p in prompts)
    tok = torch.full((len(prompts), longest), pad_id, dtype=torch.long)
    pad = torch.empty(len(prompts), dtype=torch.long)
    for i, p in enumerate(prompts):
        tok[i, longest - len(p) :] = torch.tensor(p)
        pad[i] = longest - len(p)
    return tok, pad


class EagerDecoder:
    """mindgap's decoding in PyTorch eager: the model's own modules, a cache of [B,H,cap,hd]."""

    def __init__(self, model, meta):
        self.m, self.meta = model, meta
        self.h, self.hd = meta["n_head"], meta["d_model"] // meta["n_head"]
        self.inv_freq = 10000.0 ** (-torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd)

    def rope(self, positions):  # positions [B,T] -> tables [B,1,T,hd/2]
        a = positions.float()[..., None] * self.inv_freq
        return a.cos()[:, None], a.sin()[:, None]

    def forward(self, tokens, positions, mask, slot):
        m = self.m
        b, t = tokens.shape
        x = m.wte(tokens)
        if m.wpe is not None:
            x = x + m.wpe(positions)
        rope = self.rope(positions) if m.pos == "rope" else None
        for layer, blk in enumerate(m.blocks):
            q, k, v = blk.qkv(blk.ln1(x)).view(b, t, 3, self.h, self.hd).permute(2, 0, 3, 1, 4)
            if rope is not None:
                q, k = apply_rope(q, *rope), apply_rope(k, *rope)
            kc, vc = self.k[layer], self.v[layer]
            kc[:, :, slot : slot + t] = k
            vc[:, :, slot : slot + t] = v
            y = F.scaled_dot_product_attention(
                q, kc[:, :, : slot + t], vc[:, :, : slot + t], attn_mask=mask, is_causal=mask is None and t > 1
            )
            x = x + blk.attn_proj(y.transpose(1, 2).reshape(b, t, -1))
            x = x + blk.proj(F.gelu(blk.fc(blk.ln2(x)), approximate="tanh"))
        return F.linear(m.ln_f(x[:, -1]), m.wte.weight)

    def generate(self, prompts, steps, temperature, stop, end_id, pad_id):
        tok, pad = left_pad(prompts, pad_id)
        b, p = tok.shape
        cap = p + steps
        n_layer = len(self.m.blocks)
        self.k = [torch.empty(b, self.h, cap, self.hd) for _ in range(n_layer)]
        self.v = [torch.empty(b, self.h, cap, self.hd) for _ in range(n_layer)]
        slots = torch.arange(p)[None]
        positions = (slots - pad[:, None]).clamp_min(0)
        any_pad = bool((pad > 0).any())
        mask = None
        if any_pad:
            q, k = slots[:, :, None], slots[:, None, :]
            mask = (((k >= pad[:, None, None]) & (k <= q)) | (k == q))[:, None]
        logits = self.forward(tok, positions, mask, 0)
        out = []
        done = torch.zeros(b, dtype=torch.bool)
        for t in range(steps):
            if temperature <= 0:
                nxt = logits.argmax(-1)
            else:
                nxt = torch.multinomial(torch.softmax(logits / temperature, -1), 1)[:, 0]
            out.append(torch.where(done, torch.full_like(nxt, -1), nxt))
            if stop:
                done |= nxt == end_id
                if bool(done.all()):
                    break
            if t + 1 == steps:
                break
            slot = p + t
            step_mask = None
            if any_pad:
                step_mask = (torch.arange(slot + 1)[None] >= pad[:, None]).view(b, 1, 1, slot + 1)
            logits = self.forward(nxt[:, None], (slot - pad)[:, None], step_mask, slot)
        return torch.stack(out, 1)


def apply_rope(x, cos, sin):
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def hf_generate(model, prompts, steps, temperature, stop, end_id, pad_id):
    tok, pad = left_pad(prompts, pad_id)
    attention = (torch.arange(tok.shape[1])[None] >= pad[:, None]).long()
    kw = dict(max_new_tokens=steps, pad_token_id=pad_id, eos_token_id=end_id if stop else None)
    if temperature <= 0:
        kw.update(do_sample=False)
    else:
        kw.update(do_sample=True, temperature=temperature, top_k=0, top_p=1.0)
    out = model.generate(input_ids=tok, attention_mask=attention, **kw)[:, tok.shape[1] :]
    if stop:  # after a row's end token generate() pads it: count what came before, as mindgap does
        ended = (out == end_id).cumsum(1) > 0
        out = torch.where(ended, torch.full_like(out, -1), out)
    return out


def count_and_hash(out, end_id):
    n, h = 0, 0
    for row in out.tolist():
        for t in row:
            if t < 0 or t == end_id:
                break
            n += 1
            h = (h * 1000003 + t + 1) % (1 << 61)
    return n, h


def main():
    a, meta = reference_inputs()
    workloads = json.load(open(f"{a.dir}/workloads.json"))
    model = load_model(a.dir, meta)
    model.eval()
    eager = EagerDecoder(model, meta)
    hf, hf_why = None, ""
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        hf = transformers.AutoModelForCausalLM.from_pretrained(f"{a.dir}/hf").eval()
    except Exception as e:  # noqa: BLE001 (any failure: the hf side is skipped with its reason)
        hf_why = f"{type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}"
    print("ready" + ("" if hf is not None else " no-hf " + hf_why), flush=True)
    end_id, pad_id = meta["end_id"], meta["pad_id"]
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        side, w = cmd[0], workloads[cmd[1]]
        torch.manual_seed(0)
        t0 = time.perf_counter()
        outs = []
        with torch.inference_mode():
            for chunk in w["chunks"]:
                args = (chunk, w["steps"], w["temperature"], w["stop"], end_id, pad_id)
                outs.append(eager.generate(*args) if side == "eager" else hf_generate(hf, *args))
        secs = time.perf_counter() - t0
        n, h = 0, 0
        for o in outs:
            dn, dh = count_and_hash(o, end_id)
            n, h = n + dn, (h * 7919 + dh) % (1 << 61)
        print(f"secs={secs:.6f} tokens={n} hash={h}", flush=True)


if __name__ == "__main__":
    main()
