#pragma once
// The one list of recipe keys. Parsing, writing and flattening are visitors over it, so a key
// is declared once with its default (in recipe.h), its checks and whether it is required.
#include <functional>
#include <string>
#include <vector>

#include "core/recipe.h"

namespace mg::schema {

// A check returns "" when the value is fine, else what is wrong with it.
template <class T>
using Check = std::function<std::string(const T&)>;

inline Check<std::string> one_of(std::vector<std::string> allowed) {
  return [allowed](const std::string& v) -> std::string {
    for (const auto& a : allowed)
      if (v == a) return "";
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return "'" + v + "' is not one of: " + list;
  };
}
template <class T>
Check<T> at_least(T lo) {
  return [lo](const T& v) -> std::string {
    return v >= lo ? "" : "must be >= " + std::to_string(lo) + ", got " + std::to_string(v);
  };
}
template <class T>
Check<T> between(T lo, T hi) {  // closed interval
  return [lo, hi](const T& v) -> std::string {
    return (v >= lo && v <= hi) ? ""
                                : "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                      "], got " + std::to_string(v);
  };
}
inline Check<double> open_closed(double lo, double hi) {  // (lo, hi]
  return [lo, hi](const double& v) -> std::string {
    return (v > lo && v <= hi) ? ""
                               : "must be in (" + std::to_string(lo) + ", " + std::to_string(hi) +
                                     "], got " + std::to_string(v);
  };
}
inline Check<Range> range_within(int lo, int hi) {
  return [lo, hi](const Range& r) -> std::string {
    if (r.lo > r.hi) return "lower bound " + std::to_string(r.lo) + " exceeds upper bound " + std::to_string(r.hi);
    if (r.lo < lo || r.hi > hi)
      return "must lie within [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    return "";
  };
}

constexpr bool kRequired = true;

template <class V>
void visit_recipe(Recipe& r, V& v) {
  v.section("task", [&] {
    auto& t = r.task;
    v.field("name", t.name, one_of({"addition", "multiplication", "sudoku"}), kRequired);
    v.field("digits", t.digits, range_within(1, 40));
    v.field("size", t.size, Check<int>([](const int& s) { return (s == 4 || s == 9) ? "" : "must be 4 or 9"; }));
    v.field("holes", t.holes, range_within(0, 81));
    v.field("reverse_answer", t.reverse_answer);
    v.field("reverse_operands", t.reverse_operands);
    v.field("pad_to", t.pad_to, between(0, 40));
    v.field("eval_prompts", t.eval_prompts, at_least(1));
  });
  v.section("tokenizer", [&] { v.field("vocab_size", r.tokenizer.vocab_size, between(24, 65536)); });
  v.section("model", [&] {
    auto& m = r.model;
    v.field("n_layer", m.n_layer, between(1, 128), kRequired);
    v.field("n_head", m.n_head, between(1, 256), kRequired);
    v.field("d_model", m.d_model, between(8, 16384), kRequired);
    v.field("max_seq", m.max_seq, between(8, 65536), kRequired);
    v.field("dropout", m.dropout, Check<double>([](const double& d) { return (d >= 0 && d < 1) ? "" : "must be in [0, 1)"; }));
    v.field("pos", m.pos, one_of({"learned", "rope", "none"}));
  });
  v.section("pretrain", [&] {
    auto& p = r.pretrain;
    v.field("steps", p.steps, at_least(0), kRequired);
    v.field("batch", p.batch, at_least(1));
    v.field("lr", p.lr, open_closed(0.0, 1.0));
    v.field("warmup", p.warmup, at_least(0));
    v.field("min_lr_ratio", p.min_lr_ratio, between(0.0, 1.0));
    v.field("weight_decay", p.weight_decay, between(0.0, 1.0));
    v.field("grad_clip", p.grad_clip, at_least(0.0));
    v.field("grad_accum", p.grad_accum, at_least(1));
    v.field("verify_fraction", p.verify_fraction, between(0.0, 1.0));
    v.field("verdict_weight", p.verdict_weight, between(0.0, 100.0));
    v.field("eval_every", p.eval_every, at_least(1));
    v.field("log_every", p.log_every, at_least(1));
    v.field("stop_at_greedy", p.stop_at_greedy, Check<double>([](const double& g) { return g >= 0 ? "" : "must be >= 0 (above 1: off)"; }));
  });
  v.section("improve", [&] {
    auto& i = r.improve;
    v.field("rounds", i.rounds, at_least(0));
    v.field("prompts_per_round", i.prompts_per_round, at_least(1));
    v.field("samples_per_prompt", i.samples_per_prompt, between(1, 1024));
    v.field("curriculum", i.curriculum);
    v.section("advance", [&] {
      v.field("kept_share", i.advance.kept_share, between(0.0, 1.0));
      v.field("max_rounds", i.advance.max_rounds, at_least(0));
    });
    v.section("sampling", [&] {
      v.field("temperature", i.sampling.temperature, between(0.0, 100.0));
      v.field("top_k", i.sampling.top_k, at_least(0));
      v.field("top_p", i.sampling.top_p, open_closed(0.0, 1.0));
      v.field("min_p", i.sampling.min_p, between(0.0, 1.0));
    });
    v.section("verify", [&] {
      v.field("method", i.verify.method, one_of({"mc", "score", "consistency", "equivalent", "peers", "ensemble"}));
      v.field("format", i.verify.format, one_of({"direct", "cot"}));
      v.field("ensemble", i.verify.ensemble);
      v.field("combine", i.verify.combine, one_of({"mean", "and"}));
      v.field("rewrites", i.verify.rewrites, between(1, 64));
      v.field("shifted", i.verify.shifted, between(0, 64));
      v.field("offset", i.verify.offset, one_of({"exact", "model"}));
      v.field("split", i.verify.split, between(0, 64));
      v.field("peers", i.verify.peers);
    });
    v.section("filter", [&] {
      v.field("method", i.filter.method,
              one_of({"quantile", "best_of_n", "threshold", "reweight", "none", "oracle"}));
      v.field("keep", i.filter.keep, open_closed(0.0, 1.0));
      v.field("scope", i.filter.scope, one_of({"per_prompt", "global"}));
      v.field("threshold", i.filter.threshold, between(0.0, 1.0));
      v.field("temperature", i.filter.temperature, Check<double>([](const double& t) { return t > 0 ? "" : "must be > 0"; }));
      v.field("dedup", i.filter.dedup);
      v.field("adopt", i.filter.adopt);
    });
    v.section("distill", [&] {
      v.field("steps", i.distill.steps, at_least(0));
      v.field("batch", i.distill.batch, at_least(1));
      v.field("lr", i.distill.lr, open_closed(0.0, 1.0));
      v.field("replay", i.distill.replay, between(0.0, 1.0));
      v.field("init", i.distill.init, one_of({"previous", "base"}));
      v.field("accumulate", i.distill.accumulate);
      v.field("max_loss_ratio", i.distill.max_loss_ratio, at_least(0.0));
    });
    v.field("pass_k", i.pass_k, at_least(1));
    v.field("stop_when_relative_gap_below", i.stop_when_relative_gap_below);
  });
  v.section("run", [&] {
    auto& u = r.run;
    v.field("dir", u.dir, Check<std::string>([](const std::string& d) { return d.empty() ? "must not be empty" : ""; }), kRequired);
    v.field("seed", u.seed, at_least(0LL));
    v.field("device", u.device, one_of({"auto", "cpu", "cuda"}));
    v.field("precision", u.precision, one_of({"auto", "fp32", "bf16"}));
    v.field("threads", u.threads, between(1, 256));
    v.field("dist_timeout_s", u.dist_timeout_s, between(1.0, 86400.0));
    v.field("overlap_grad_sync", u.overlap_grad_sync);
    v.field("nonfinite", u.nonfinite, one_of({"stop", "skip"}));
  });
}

}  // namespace mg::schema
