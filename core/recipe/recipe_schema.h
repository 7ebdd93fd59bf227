#pragma once
// The one list of recipe keys. Parsing, writing, flattening and the key reference
// (docs/recipes.md, `mindgap recipe --keys`) are visitors over it, so a key is declared once:
// its default (in recipe.h), its check with the allowed values in words, and its meaning.
#include <charconv>
#include <concepts>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/recipe/sweep_shape.h"

namespace mg::schema {

// A check returns "" when the value is fine, else what is wrong with it. `allowed` says the
// same in words for the reference; `required` makes a missing key an error.
template <class T>
struct Check {
  std::function<std::string(const T&)> fn;
  std::string allowed;
  bool required = false;

  Check() = default;
  template <class F>
    requires std::is_invocable_r_v<std::string, F, const T&>
  Check(F f, std::string allowed_text = "") : fn(std::move(f)), allowed(std::move(allowed_text)) {}
  std::string operator()(const T& v) const { return fn ? fn(v) : ""; }
  explicit operator bool() const { return static_cast<bool>(fn); }
};

// Numbers in the reference: the shortest text that reads back as the same value.
template <class T>
std::string number_words(T v) {
  char buf[64];
  std::to_chars_result res;
  if constexpr (std::is_floating_point_v<T>) res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  else res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

inline Check<std::string> one_of(std::vector<std::string> allowed) {
  std::string words;
  for (const auto& a : allowed) words += (words.empty() ? "`" : ", `") + a + "`";
  return {[allowed](const std::string& v) -> std::string {
            for (const auto& a : allowed)
              if (v == a) return "";
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            return "'" + v + "' is not one of: " + list;
          },
          words};
}
inline Check<std::vector<std::string>> each_of(std::vector<std::string> allowed) {
  Check<std::string> one = one_of(allowed);
  return {[one](const std::vector<std::string>& vs) -> std::string {
            for (const auto& v : vs)
              if (auto problem = one(v); !problem.empty()) return problem;
            return "";
          },
          "each of " + one.allowed};
}
template <class T>
Check<T> at_least(T lo) {
  return {[lo](const T& v) -> std::string {
            return v >= lo ? "" : "must be >= " + std::to_string(lo) + ", got " + std::to_string(v);
          },
          "≥ " + number_words(lo)};
}
template <class T>
Check<T> between(T lo, T hi) {  // closed interval
  return {[lo, hi](const T& v) -> std::string {
            return (v >= lo && v <= hi) ? ""
                                        : "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                              "], got " + std::to_string(v);
          },
          "[" + number_words(lo) + ", " + number_words(hi) + "]"};
}
inline Check<double> open_closed(double lo, double hi) {  // (lo, hi]
  return {[lo, hi](const double& v) -> std::string {
            return (v > lo && v <= hi) ? ""
                                       : "must be in (" + std::to_string(lo) + ", " + std::to_string(hi) +
                                             "], got " + std::to_string(v);
          },
          "(" + number_words(lo) + ", " + number_words(hi) + "]"};
}
inline Check<Range> range_within(int lo, int hi) {
  return {[lo, hi](const Range& r) -> std::string {
            if (r.lo > r.hi) return "lower bound " + std::to_string(r.lo) + " exceeds upper bound " + std::to_string(r.hi);
            if (r.lo < lo || r.hi > hi)
              return "must lie within [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
            return "";
          },
          "low ≤ high, within [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"};
}
// A check of its own: `allowed` in words, `fn` as above.
template <class T, class F>
Check<T> custom(std::string allowed, F fn) {
  return Check<T>(std::move(fn), std::move(allowed));
}
// The key must be in the recipe.
template <class T>
Check<T> required(Check<T> check) {
  check.required = true;
  return check;
}

// The names sweep.methods accepts: every verify method that needs no other run, mc with each
// verdict format, and the control arms none and oracle (filters that read no score:
// sweep_control_arm).
inline std::vector<std::string> sweep_method_names() {
  std::vector<std::string> out;
  for (const auto& m : method_names(kVerifyMethods, {VerifyMethod::Peers})) {
    out.push_back(m);
    if (m == name_of(VerifyMethod::Mc))
      for (const char* f : {"direct", "cot"}) out.push_back(m + "-" + f);
  }
  for (FilterMethod arm : {FilterMethod::None, FilterMethod::Oracle}) out.emplace_back(name_of(arm));
  return out;
}

// Every key: v.field(key, value, [check,] meaning). The meaning is one line for the reference;
// it names the task or method a key applies to when it does not apply to all.
template <class V>
void visit_recipe(Recipe& r, V& v) {
  v.section("task", [&] {
    auto& t = r.task;
    v.field("name", t.name, required(one_of({"addition", "multiplication", "sudoku"})),
            "the task: its generator, exact grader and realistic wrong answers");
    v.field("digits", t.digits, range_within(1, 40),
            "addition, multiplication: operand lengths of pretraining and evaluation");
    v.field("size", t.size, custom<int>("`4` or `9`", [](const int& s) { return (s == 4 || s == 9) ? "" : "must be 4 or 9"; }),
            "sudoku: the grid is size × size");
    v.field("holes", t.holes, range_within(0, 81), "sudoku: empty cells per puzzle, at most size²");
    v.field("reverse_answer", t.reverse_answer,
            "addition, multiplication: the answer written least significant digit first (`62+85=741`)");
    v.field("reverse_operands", t.reverse_operands,
            "addition, multiplication: operands written least significant digit first too (one layout for every "
            "length, what a curriculum to longer operands needs)");
    v.field("pad_to", t.pad_to, between(0, 40),
            "addition, multiplication: operands zero-padded to this many digits (0: unpadded); at least the widest "
            "operand of task.digits and improve.curriculum");
    v.field("eval_prompts", t.eval_prompts, at_least(1),
            "held-out prompts per difficulty for greedy accuracy (pretraining's evals use at most 200)");
  });
  v.section("tokenizer", [&] {
    v.field("vocab_size", r.tokenizer.vocab_size, between(24, 65536),
            "upper bound on the SentencePiece character vocabulary (addition and multiplication need 28, 4×4 "
            "sudoku 22, 9×9 27)");
  });
  v.section("model", [&] {
    auto& m = r.model;
    v.field("n_layer", m.n_layer, required(between(1, 128)), "transformer blocks");
    v.field("n_head", m.n_head, required(between(1, 256)), "attention heads; must divide model.d_model");
    v.field("d_model", m.d_model, required(between(8, 16384)), "residual stream width (the MLP is 4× wider)");
    v.field("max_seq", m.max_seq, required(between(8, 65536)),
            "longest sequence in tokens: prompt, answer and verification together");
    v.field("dropout", m.dropout,
            custom<double>("[0, 1)", [](const double& d) { return (d >= 0 && d < 1) ? "" : "must be in [0, 1)"; }),
            "dropout probability (a resume inside pretraining is bit-identical only with 0)");
    v.field("pos", m.pos, one_of({"learned", "rope", "none"}),
            "positions: learned absolute embeddings, rotary, or none (causal attention alone); rope needs an even "
            "head size");
  });
  v.section("pretrain", [&] {
    auto& p = r.pretrain;
    v.field("steps", p.steps, required(at_least(0)), "optimizer steps of pretraining round-0000 from scratch");
    v.field("batch", p.batch, at_least(1), "examples per step, over all ranks");
    v.field("lr", p.lr, open_closed(0.0, 1.0), "AdamW peak learning rate");
    v.field("warmup", p.warmup, at_least(0), "steps of linear warmup before the cosine decay");
    v.field("min_lr_ratio", p.min_lr_ratio, between(0.0, 1.0), "the cosine decays to lr × min_lr_ratio");
    v.field("weight_decay", p.weight_decay, between(0.0, 1.0), "AdamW weight decay, pretraining and distillation");
    v.field("grad_clip", p.grad_clip, at_least(0.0),
            "gradient norm clip, pretraining and distillation (0: off)");
    v.field("grad_accum", p.grad_accum, at_least(1), "micro-batches per pretraining step");
    v.field("verify_fraction", p.verify_fraction, between(0.0, 1.0),
            "share of verification examples (prompt, candidate → verdict) among generation examples");
    v.field("verdict_weight", p.verdict_weight, between(0.0, 100.0), "loss weight of verdict tokens");
    v.field("eval_every", p.eval_every, at_least(1),
            "steps between held-out evals; each also saves a pretraining checkpoint to resume from");
    v.field("log_every", p.log_every, at_least(1), "steps between loss lines in metrics.jsonl");
    v.field("stop_at_greedy", p.stop_at_greedy,
            custom<double>("≥ 0", [](const double& g) { return g >= 0 ? "" : "must be >= 0 (above 1: off)"; }),
            "stop at the first eval whose held-out greedy accuracy reaches this (above 1: off), so that seeds "
            "start from the same accuracy");
    v.field("keep_at", p.keep_at, custom<std::vector<int>>("ascending steps ≥ 1", check_ascending_positive),
            "steps after which the weights are also kept in <run.dir>/snapshots/ (a sweep's points); each at most "
            "pretrain.steps, and pretrain.stop_at_greedy off");
  });
  v.section("improve", [&] {
    auto& i = r.improve;
    v.field("rounds", i.rounds, at_least(0), "self-improvement rounds (may change on resume)");
    v.field("prompts_per_round", i.prompts_per_round, at_least(1), "prompts per round, over all ranks");
    v.field("samples_per_prompt", i.samples_per_prompt, between(1, 1024), "samples drawn per prompt (N)");
    v.field("curriculum", i.curriculum,
            "difficulty per round: `{digits: [4, 5, 6]}` (addition, multiplication) or `{holes: [...]}` (sudoku); "
            "the last value holds; empty: the task's range");
    v.section("advance", [&] {
      v.field("kept_share", i.advance.kept_share, between(0.0, 1.0),
              "adaptive curriculum (0: off): move to the next curriculum value after a round whose filter kept at "
              "least this share of its samples; stop after the last; needs filter threshold or oracle");
      v.field("max_rounds", i.advance.max_rounds, at_least(0),
              "adaptive curriculum: move on after this many rounds at one value anyway (0: no cap)");
    });
    v.section("sampling", [&] {
      v.field("temperature", i.sampling.temperature, between(0.0, 100.0), "sampling temperature (0: greedy)");
      v.field("top_k", i.sampling.top_k, at_least(0), "keep the k most likely tokens (0: off)");
      v.field("top_p", i.sampling.top_p, open_closed(0.0, 1.0), "nucleus sampling mass (1: off)");
      v.field("min_p", i.sampling.min_p, between(0.0, 1.0),
              "drop tokens below min_p × the top probability (0: off)");
    });
    v.section("verify", [&] {
      v.field("method", i.verify.method, one_of(method_names(kVerifyMethods)),
              "self-verification: mc = P(yes) of the verdict; score = expected score token; consistency = "
              "majority vote; equivalent = agreement with rewritten prompts (addition, multiplication); peers = "
              "vote of other runs' models; ensemble = a combination");
      v.field("format", i.verify.format, one_of({"direct", "cot"}),
              "verdict format of mc (and taught in pretraining): direct, or cot (the model writes its own answer "
              "first)");
      v.field("ensemble", i.verify.ensemble, each_of(method_names(kVerifyMethods, {VerifyMethod::Ensemble})),
              "ensemble: the methods combined");
      v.field("combine", i.verify.combine,
              "ensemble: mean of the scores, or and (their minimum)");
      v.field("rewrites", i.verify.rewrites, between(1, 64),
              "equivalent: rewrites of each prompt (the first is b+a; more need addition: other splits of the same "
              "sum)");
      v.field("shifted", i.verify.shifted, between(0, 64),
              "equivalent, addition only: shifted rewrites (leading digits lowered) whose answers vote once the "
              "offset is added back");
      v.field("offset", i.verify.offset,
              "equivalent, addition only, with shifted > 0: the offset added back by exact arithmetic, or by the "
              "model's own answer to the sum of the leading digits");
      v.field("split", i.verify.split, between(0, 64),
              "equivalent, addition only: split rewrites (the problem worked by the model in sums of about half "
              "its length) that vote too");
      v.field("peers", i.verify.peers,
              "peers: run directories of the same task and layout, other seeds, whose models vote on this run's "
              "samples (their round r-1)");
    });
    v.section("filter", [&] {
      v.field("method", i.filter.method,
              one_of(method_names(kFilterMethods)),
              "which samples train: top share by score, best per prompt, score ≥ threshold, all reweighted by "
              "score; none and oracle are control arms (all samples; the grader-correct ones)");
      v.field("keep", i.filter.keep, open_closed(0.0, 1.0), "quantile: share of samples kept");
      v.field("scope", i.filter.scope,
              "quantile and reweight: within each prompt, or over all samples of the round");
      v.field("threshold", i.filter.threshold, between(0.0, 1.0),
              "threshold: lowest score kept; with fallback check, the share the check's answer needs");
      v.field("temperature", i.filter.temperature,
              custom<double>("> 0", [](const double& t) { return t > 0 ? "" : "must be > 0"; }),
              "reweight: weights ∝ exp(score / temperature)");
      v.field("dedup", i.filter.dedup, "identical kept samples of a prompt train once (the gap is measured before)");
      v.field("fallback", i.filter.fallback,
              "threshold with verify equivalent: what a prompt none of whose samples passed trains on: nothing "
              "(none), or the check's most-voted answer when its share reaches the threshold (check; counted "
              "apart as fallback answers)");
    });
    v.section("distill", [&] {
      v.field("steps", i.distill.steps, at_least(0), "fine-tuning steps per round");
      v.field("batch", i.distill.batch, at_least(1), "examples per fine-tuning step, over all ranks");
      v.field("lr", i.distill.lr, open_closed(0.0, 1.0), "AdamW learning rate of fine-tuning (a fresh optimizer each round)");
      v.field("replay", i.distill.replay, between(0.0, 1.0),
              "share of pretraining-style generation and verification examples mixed into each batch");
      v.field("init", i.distill.init,
              "each round fine-tunes the previous round's model, or round-0000's");
      v.field("accumulate", i.distill.accumulate,
              "also train on what every earlier round kept (a curriculum keeps the lengths it has passed)");
      v.field("max_loss_ratio", i.distill.max_loss_ratio, at_least(0.0),
              "a round whose distillation loss ends above this multiple of where it began is not committed (0: off)");
    });
    v.field("pass_k", i.pass_k, at_least(1), "k of pass@k; at most samples_per_prompt");
    v.field("pass_at", i.pass_at, custom<std::vector<int>>("ascending k ≥ 1", check_ascending_positive),
            "pass@k of each round's model (round-0000 included) on held-out prompts for each k, from max(k) "
            "samples per prompt drawn for the measurement only (e.g. [1, 4, 16, 64]); empty: off");
    v.field("pass_at_prompts", i.pass_at_prompts, between(1, 100000), "held-out prompts of improve.pass_at");
    v.field("stop_when_relative_gap_below", i.stop_when_relative_gap_below,
            "end the loop when a round's relative gap falls below this (the gap has saturated); may change on "
            "resume");
  });
  v.section("sweep", [&] {
    auto& s = r.sweep;
    v.field("shapes", s.shapes, custom<std::vector<std::string>>("`<n_layer>x<d_model>[x<n_head>]`", check_sweep_shapes),
            "mindgap sweep: the model shapes, each pretrained once (n_head: model.n_head unless given)");
    v.field("at_steps", s.at_steps, custom<std::vector<int>>("ascending steps ≥ 1", check_ascending_positive),
            "mindgap sweep: the pretraining steps at which every shape's gap is measured");
    v.field("methods", s.methods, each_of(sweep_method_names()),
            "mindgap sweep: the verify methods measured on the same samples at every point (mc-direct: mc in "
            "the direct format; none and oracle: the control filters); pretraining teaches the formats they read");
  });
  v.section("run", [&] {
    auto& u = r.run;
    v.field("dir", u.dir,
            required(custom<std::string>("not empty", [](const std::string& d) { return d.empty() ? "must not be empty" : ""; })),
            "run directory (every rank must see it); may change on resume");
    v.field("seed", u.seed, at_least(0LL), "the seed every random choice derives from");
    v.field("device", u.device, one_of({"auto", "cpu", "cuda"}), "auto: the GPU when one is visible, else the CPU");
    v.field("precision", u.precision, one_of({"auto", "fp32", "bf16"}),
            "auto: bf16 autocast on CUDA, fp32 on the CPU (bf16 is refused on the CPU)");
    v.field("threads", u.threads, between(1, 256),
            "torch CPU threads per rank; results are bit-identical only at one thread count; may change on resume");
    v.field("dist_timeout_s", u.dist_timeout_s, between(1.0, 86400.0),
            "seconds a collective waits for the other ranks before the job ends naming the stuck rank");
    v.field("overlap_grad_sync", u.overlap_grad_sync,
            "all-reduce gradients bucket by bucket during the backward pass (false: after it)");
    v.field("nonfinite", u.nonfinite, one_of({"stop", "skip"}),
            "a non-finite loss or gradient norm stops the run, or skips that update and counts it; may change on resume");
  });
}

}  // namespace mg::schema
