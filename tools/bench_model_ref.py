#!/usr/bin/env python3
"""PyTorch eager reference for tools/bench_model: the same GPT (pre-LayerNorm, fused qkv,
scaled_dot_product_attention with is_causal, 4x tanh-GELU MLP, tied unembedding, GPT-2 init,
positions learned | rope | none), timed on the same training step: forward, cross-entropy,
backward, AdamW. Prints one line `tokens_per_s=<float> params=<int>` on stdout."""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def rope_tables(t, head_dim, base=10000.0):
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.arange(t, dtype=torch.float32)[:, None] * inv_freq
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Block(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.attn_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, rope):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.n_head, d // self.n_head).permute(2, 0, 3, 1, 4)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn_proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self, vocab, n_layer, n_head, d, max_seq, pos):
        super().__init__()
        self.pos, self.head_dim = pos, d // n_head
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(max_seq, d) if pos == "learned" else None
        self.blocks = nn.ModuleList(Block(d, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln" not in name:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.wte(tokens)
        if self.wpe is not None:
            x = x + self.wpe.weight[:t]
        rope = rope_tables(t, self.head_dim) if self.pos == "rope" else None
        for blk in self.blocks:
            x = blk(x, rope)
        return F.linear(self.ln_f(x), self.wte.weight)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=32)
    ap.add_argument("--n_layer", type=int, default=4)
    ap.add_argument("--n_head", type=int, default=4)
    ap.add_argument("--d_model", type=int, default=128)
    ap.add_argument("--max_seq", type=int, default=64)
    ap.add_argument("--pos", default="rope")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seq", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Gpt(a.vocab, a.n_layer, a.n_head, a.d_model, a.max_seq, a.pos)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    data = torch.randint(a.vocab, (a.batch, a.seq + 1))
    x, y = data[:, :-1], data[:, 1:]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).reshape(-1, a.vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    elapsed = time.perf_counter() - start
    params = sum(p.numel() for p in model.parameters())
    print(f"tokens_per_s={a.steps * a.batch * a.seq / elapsed:.1f} params={params}")


if __name__ == "__main__":
    main()
