#!/usr/bin/env python3
"""mindgap's GPT in PyTorch eager, for the benchmarks' references (bench_train_step_ref.py):
pre-LayerNorm, fused qkv, scaled_dot_product_attention with is_causal, 4x tanh-GELU MLP, tied
unembedding, GPT-2 init, positions learned | rope | none."""
import math

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

    def hidden(self, tokens):
        """The final-norm hidden states, before the (tied) unembedding."""
        t = tokens.shape[1]
        x = self.wte(tokens)
        if self.wpe is not None:
            x = x + self.wpe.weight[:t]
        rope = rope_tables(t, self.head_dim) if self.pos == "rope" else None
        for blk in self.blocks:
            x = blk(x, rope)
        return self.ln_f(x)

    def forward(self, tokens):
        return F.linear(self.hidden(tokens), self.wte.weight)
