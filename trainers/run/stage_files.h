#pragma once
// What a round can take from disk: the stage outputs a killed run left in round-XXXX.tmp, and
// the records of committed rounds. A stage file that cannot be read is not an error to repeat
// on every rerun: it is discarded (with the stages after it) and recomputed, which gives the
// same bytes, since every stage is a function of the seeds and the previous round.
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/checkpoint.h"
#include "core/fs.h"
#include "core/stop_signal.h"
#include "trainers/run/run_context.h"
#include "trainers/run/stop_hook.h"

namespace mg {

// The stage outputs in `writer`'s directory that a resume can use ("samples.jsonl",
// "scored.jsonl", "kept.jsonl", "model.safetensors"), each read back in full first. The first
// that fails to read (and every later one) is left out, named in a warning, and removed by
// rank 0 once every rank has looked. Collective: every rank calls it.
std::set<std::string> usable_stage_files(RunContext& ctx, const RoundWriter& writer);

// The resume rule of a round, in one place. Built before anything of the round is written: it
// looks, on every rank, at what a killed run left in round-XXXX.tmp (usable_stage_files; a
// file looked up later instead, one rank 0 had just written would send a slower rank down the
// resume branch, past the barrier the others wait in).
class RoundStore {
 public:
  RoundStore(RunContext& ctx, int round) : ctx_(ctx), round_(round), writer_(ctx.run, round) {
    done_ = usable_stage_files(ctx, writer_);
  }
  const std::filesystem::path dir() const { return writer_.dir(); }

  // A stage's output: read from the stage's file when the round already has it, else
  // computed and written by rank 0 at the stage boundary (write_at). Timed under the stage's
  // name in seconds() unless `timed` is false.
  template <class Compute, class Read, class Write>
  auto reuse_or_run(const std::string& stage, const std::string& file, Compute&& compute, Read&& read,
                    Write&& write, bool timed = true) {
    const auto start = std::chrono::steady_clock::now();
    decltype(compute()) out;
    if (done_.count(file)) {
      out = read(dir());
    } else {
      out = compute();
      write_at(stage, [&] { write(dir(), out); });
    }
    if (timed) seconds_[stage] = since(start);
    return out;
  }

  // A stage boundary: rank 0 writes, then every rank moves on together. A safe point: a
  // signal stops the run here, every file whole.
  template <class Write>
  void write_at(const std::string& stage, Write&& write) {
    if (ctx_.writer()) write();
    ctx_.comm->barrier();
    maybe_stop_after(round_, stage);
    stop_point(*ctx_.comm, "in round " + std::to_string(round_) + " after " + stage);
  }

  // Times `f` under `name` in seconds().
  template <class F>
  auto timed(const std::string& name, F&& f) {
    const auto start = std::chrono::steady_clock::now();
    auto out = f();
    seconds_[name] = since(start);
    return out;
  }
  nlohmann::json& seconds() { return seconds_; }

  // The record as the round's state.json, then the directory renamed to round-XXXX: the round
  // is committed.
  void commit(const nlohmann::json& record) {
    write_at("commit", [&] {
      fs::write_file_atomic(dir() / "state.json", record.dump(2));
      writer_.commit();
    });
  }

 private:
  static double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  RunContext& ctx_;
  int round_;
  RoundWriter writer_;
  std::set<std::string> done_;
  nlohmann::json seconds_;
};

// A committed improvement round's state.json as the round table and the curriculum read it:
// BadInput naming the round or the file when the round fails its MANIFEST or the record lacks
// what they need (an empty file, "{}").
nlohmann::json committed_round_record(const RunDir& run, int round);

}  // namespace mg
