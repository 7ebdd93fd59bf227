#include "core/run/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include <torch/serialize.h>

#include "core/run/atomic_file.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/run/manifest.h"

namespace mg {

namespace stdfs = std::filesystem;

namespace {

// "round-0012" -> 12; -1 for anything else (including "round-0012.tmp").
int parse_round_name(const std::string& name) {
  const std::string prefix = "round-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
  std::string digits = name.substr(prefix.size());
  if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return -1;
  return std::stoi(digits);
}

void fsync_path(const stdfs::path& p, bool dir) {
  int fd = ::open(p.c_str(), dir ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

RoundWriter::RoundWriter(const RunDir& run, int round) : run_(run), round_(round) {
  if (round < 0) fail_internal("RoundWriter: negative round " + std::to_string(round));
  std::error_code ec;
  stdfs::create_directories(dir(), ec);
  if (ec) fail_input(dir().string() + ": cannot create (" + ec.message() + ")");
}

stdfs::path RoundWriter::dir() const { return run_.round_tmp(round_); }

bool RoundWriter::has(const std::string& file) const { return fs::exists(dir() / file); }

void RoundWriter::commit() {
  check(!committed_, "RoundWriter::commit called twice for round " + std::to_string(round_));
  const stdfs::path tmp = dir();
  const stdfs::path final_dir = run_.round(round_);
  std::error_code ec;
  if (!stdfs::is_directory(tmp, ec)) fail_input(tmp.string() + ": vanished before commit");

  // Half-written files of a killed run would otherwise be checksummed into the round.
  std::vector<stdfs::path> files, dirs{tmp};
  for (auto it = stdfs::recursive_directory_iterator(tmp, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory()) dirs.push_back(it->path());
    else if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) fail_input(tmp.string() + ": cannot list (" + ec.message() + ")");
  for (const auto& f : files)
    if (is_atomic_temporary(f)) {
      log::debug("removing the leftover " + f.string());
      stdfs::remove(f, ec);
    }

  write_manifest(tmp);
  // torch::save and plain ofstreams do not fsync; the rename must not reach the disk before
  // the data does.
  for (const auto& f : files)
    if (!is_atomic_temporary(f)) fsync_path(f, false);
  for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) fsync_path(*d, true);

  if (stdfs::exists(final_dir, ec)) {
    // Only a round that failed verification is redone; keep nothing of it.
    log::warn(final_dir.string() + ": already exists; replacing it with the new round");
    stdfs::remove_all(final_dir, ec);
    if (ec) fail_input(final_dir.string() + ": cannot remove the stale round (" + ec.message() + ")");
  }
  stdfs::rename(tmp, final_dir, ec);
  if (ec) fail_input(tmp.string() + ": cannot rename to " + final_dir.filename().string() + " (" + ec.message() + ")");
  fs::fsync_dir(run_.root);
  fs::write_file_atomic(run_.latest(), final_dir.filename().string() + "\n");
  committed_ = true;
}

int read_latest(const RunDir& run) {
  if (!fs::exists(run.latest())) return -1;
  std::string text;
  try {
    text = fs::read_file(run.latest());
  } catch (const Error&) {
    return -1;
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return parse_round_name(text);
}

const std::vector<std::string>& required_round_files() {
  static const std::vector<std::string> files{"model.safetensors", "state.json"};
  return files;
}

bool verify_round(const RunDir& run, int round, std::string* problem) {
  return verify_manifest(run.round(round), problem, {}, required_round_files());
}

nlohmann::json load_round_state(const RunDir& run, int round) {
  std::string problem;
  if (!verify_round(run, round, &problem))
    fail_input(run.round(round).string() + ": corrupt (" + problem + ")");
  const stdfs::path path = run.round(round) / "state.json";
  nlohmann::json state = load_state(path);
  if (!state.contains("round") || !state["round"].is_number_integer() || state["round"].get<int>() != round)
    fail_input(path.string() + ": not the state of round " + std::to_string(round) + " (no \"round\": " +
               std::to_string(round) + "; damaged?)");
  return state;
}

int latest_good_round(const RunDir& run) {
  std::vector<int> rounds;
  std::error_code ec;
  if (!stdfs::is_directory(run.root, ec)) return -1;
  for (const auto& e : stdfs::directory_iterator(run.root, ec)) {
    int r = parse_round_name(e.path().filename().string());
    if (r >= 0 && e.is_directory()) rounds.push_back(r);
  }
  std::sort(rounds.rbegin(), rounds.rend());

  int latest = read_latest(run);
  if (latest < 0 && fs::exists(run.latest()))
    log::warn_once(run.latest().string() + ": unreadable or malformed; looking for the newest good round");
  if (latest >= 0) {
    if (std::find(rounds.begin(), rounds.end(), latest) == rounds.end())
      log::warn_once(run.latest().string() + " names " + run.round(latest).filename().string() +
                " but that directory is missing; falling back to an older round");
    for (int r : rounds)
      if (r > latest)
        log::info(run.round(r).string() + ": newer than LATEST (its commit was cut short); not used");
    rounds.erase(std::remove_if(rounds.begin(), rounds.end(), [&](int r) { return r > latest; }), rounds.end());
  }
  for (size_t i = 0; i < rounds.size(); ++i) {
    std::string problem;
    if (verify_round(run, rounds[i], &problem)) return rounds[i];
    // Asked several times per command; one warning per damaged round is enough.
    log::warn_once(run.round(rounds[i]).string() + ": corrupt (" + problem + "); " +
              (i + 1 < rounds.size() ? "falling back to an older round" : "no older round to fall back to"));
  }
  return -1;
}

void save_optimizer(const stdfs::path& path, torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive archive;
  opt.save(archive);
  AtomicFile out(path);
  // An exception thrown out of this callback unwinds through torch's zip writer, whose
  // destructor then writes again and aborts the process. So a write error is remembered, the
  // rest of the archive is let go unwritten, and the error is raised once torch is done
  // (AtomicFile then removes the temporary).
  std::string write_error;
  archive.save_to([&out, &write_error](const void* data, size_t n) -> size_t {
    if (write_error.empty()) {
      try {
        out.write(data, n);
      } catch (const Error& e) {
        write_error = e.what();
      }
    }
    return n;
  });
  if (!write_error.empty()) fail_input(write_error);
  out.commit();
}

void load_optimizer(const stdfs::path& path, torch::optim::Optimizer& opt) {
  if (!fs::exists(path)) fail_input(path.string() + ": optimizer state is missing");
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    opt.load(archive);
  } catch (const c10::Error& e) {
    fail_input(path.string() + ": cannot load the optimizer state (corrupt, or saved for another model?): " +
               first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    if (dynamic_cast<const Error*>(&e)) throw;
    fail_input(path.string() + ": cannot load the optimizer state: " + first_line(e.what()));
  }
}

void save_state(const stdfs::path& path, const nlohmann::json& state) {
  fs::write_file_atomic(path, state.dump(2) + "\n");
}

nlohmann::json load_state(const stdfs::path& path) {
  std::string text = fs::read_file(path);
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail_input(path.string() + ": not valid JSON (corrupt state file?)");
  if (!j.is_object()) fail_input(path.string() + ": not a JSON object (corrupt state file?)");
  return j;
}

}  // namespace mg
