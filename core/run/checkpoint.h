#pragma once
// Round checkpoints (docs/run-directory.md). A round is written under round-XXXX.tmp by
// its stages; commit() writes MANIFEST last, fsyncs, renames the directory to round-XXXX and
// then replaces LATEST atomically. A run killed at any point therefore leaves either the
// previous LATEST (and a .tmp directory whose finished files a resume reuses) or the new one.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include "core/run/run_dir.h"

namespace mg {

class RoundWriter {
 public:
  // Creates round-XXXX.tmp, or reuses it when a killed run left one (resume). Only the rank
  // that writes shared files (rank 0) should make one.
  RoundWriter(const RunDir& run, int round);
  // The temporary directory: stages write their files here.
  std::filesystem::path dir() const;
  // A stage's output is already there (written atomically, so present means complete).
  bool has(const std::string& file) const;
  // Removes leftovers of killed atomic writes, writes MANIFEST, fsyncs every file, renames
  // the directory to round-XXXX (replacing a stale one that failed verification) and points
  // LATEST at it. Once only.
  void commit();
  int round() const { return round_; }

 private:
  RunDir run_;
  int round_;
  bool committed_ = false;
};

// The newest round whose directory passes verify_manifest: the round LATEST names first,
// then older rounds, newest first, with a log::warn naming each corrupt round and the cause.
// Rounds newer than LATEST (renamed but never made LATEST: the commit was cut short) are not
// trusted. Without LATEST every round-XXXX directory is a candidate. -1 if none is good.
int latest_good_round(const RunDir& run);

// The files every committed round must hold and its MANIFEST must list: the weights and the
// state. A MANIFEST that lists fewer (empty, cut short, written by hand) does not vouch for them.
const std::vector<std::string>& required_round_files();

// Whether round-XXXX passes verify_manifest with required_round_files(); `problem` says why not.
bool verify_round(const RunDir& run, int round, std::string* problem);

// A committed round's state.json, for a round that must be usable: BadInput naming the round
// and the cause when its MANIFEST fails, and naming the file when it is not a JSON object of
// that round (an empty file, "{}").
nlohmann::json load_round_state(const RunDir& run, int round);

// The round LATEST names, or -1 when it is missing or unreadable. No verification.
int read_latest(const RunDir& run);

// Optimizer state (optimizer.pt) through torch::serialize; written atomically. A write error
// (disk full) is BadInput naming the file, and no temporary file is left.
void save_optimizer(const std::filesystem::path& path, torch::optim::Optimizer& opt);
// BadInput if the file is missing, corrupt, or holds the state of another optimizer shape.
void load_optimizer(const std::filesystem::path& path, torch::optim::Optimizer& opt);

// A round's JSON state (state.json: step counters, RNG seeds, the stages done), written
// atomically; load gives BadInput, naming the file, for a missing file, bad JSON or JSON that
// is not an object.
void save_state(const std::filesystem::path& path, const nlohmann::json& state);
nlohmann::json load_state(const std::filesystem::path& path);

}  // namespace mg
