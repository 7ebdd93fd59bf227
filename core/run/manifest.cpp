#include "core/run/manifest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "core/errors.h"
#include "core/fs.h"

namespace mg {

namespace stdfs = std::filesystem;

namespace {

constexpr const char* kManifest = "MANIFEST";

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

std::string sha256_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input(path.string() + ": cannot open to checksum");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  check(ctx != nullptr, "EVP_MD_CTX_new failed");
  check(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1, "EVP_DigestInit_ex(sha256) failed");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize got = in.gcount();
    if (got > 0) check(EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(got)) == 1, "EVP_DigestUpdate failed");
  }
  if (in.bad()) fail_input(path.string() + ": read error while checksumming");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx.get(), md, &len) == 1 && len == 32, "EVP_DigestFinal_ex failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

void write_manifest(const stdfs::path& dir) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) fail_input(dir.string() + ": not a directory, cannot write its MANIFEST");
  std::vector<std::string> files;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string rel = stdfs::relative(it->path(), dir).generic_string();
    if (rel == kManifest) continue;
    // One line per file: a name with a line break could not be read back.
    if (rel.find('\n') != std::string::npos || rel.find('\r') != std::string::npos)
      fail_input(it->path().string() + ": a file name with a line break cannot go into a MANIFEST");
    files.push_back(rel);
  }
  if (ec) fail_input(dir.string() + ": cannot list (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  std::string text;
  for (const auto& rel : files) text += sha256_file(dir / rel) + "  " + rel + "\n";
  fs::write_file_atomic(dir / kManifest, text);
}

bool verify_manifest(const stdfs::path& dir, std::string* problem, const std::vector<std::string>& only,
                     const std::vector<std::string>& required) {
  auto fail = [&](const std::string& why) {
    if (problem) *problem = why;
    return false;
  };
  stdfs::path manifest = dir / kManifest;
  std::error_code ec;
  if (!stdfs::is_regular_file(manifest, ec)) return fail("MANIFEST is missing");
  std::string text;
  try {
    text = fs::read_file(manifest);
  } catch (const Error& e) {
    return fail(std::string("MANIFEST unreadable: ") + e.what());
  }
  if (!text.empty() && text.back() != '\n') return fail("MANIFEST is truncated (no final line break)");
  std::istringstream lines(text);
  std::string line;
  int lineno = 0;
  std::vector<std::string> listed;
  while (std::getline(lines, line)) {
    ++lineno;
    // "<hash>  <path>": the path may itself hold spaces, so split at the first two only.
    if (line.size() < 67 || line.compare(64, 2, "  ") != 0 || !is_hex64(line.substr(0, 64)))
      return fail("MANIFEST line " + std::to_string(lineno) + " is malformed");
    std::string want = line.substr(0, 64);
    std::string rel = line.substr(66);
    if (!only.empty() && std::find(only.begin(), only.end(), rel) == only.end()) continue;
    listed.push_back(rel);
    stdfs::path file = dir / rel;
    if (!stdfs::is_regular_file(file, ec)) return fail(rel + ": listed in MANIFEST but missing");
    std::string got;
    try {
      got = sha256_file(file);
    } catch (const Error& e) {
      return fail(rel + ": unreadable (" + e.what() + ")");
    }
    if (got != want) return fail(rel + ": checksum mismatch (file changed or damaged)");
  }
  for (const auto& rel : only)
    if (std::find(listed.begin(), listed.end(), rel) == listed.end()) return fail(rel + ": not listed in MANIFEST");
  if (only.empty())
    for (const auto& rel : required)
      if (std::find(listed.begin(), listed.end(), rel) == listed.end())
        return fail(rel + (stdfs::exists(dir / rel, ec) ? ": not listed in MANIFEST" : ": missing (and not listed in MANIFEST)"));
  return true;
}

namespace {

// The (path, checksum) lines of a well-formed MANIFEST; empty when missing or malformed.
std::vector<std::pair<std::string, std::string>> manifest_lines(const stdfs::path& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  if (!stdfs::is_regular_file(dir / kManifest, ec)) return out;
  std::string text;
  try {
    text = fs::read_file(dir / kManifest);
  } catch (const Error&) {
    return {};
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() < 67 || line.compare(64, 2, "  ") != 0 || !is_hex64(line.substr(0, 64))) return {};
    out.emplace_back(line.substr(66), line.substr(0, 64));
  }
  return out;
}

}  // namespace

void set_manifest_entry(const stdfs::path& dir, const std::string& rel, const std::string& sha256) {
  check(is_hex64(sha256), "set_manifest_entry: not a SHA-256: " + sha256);
  auto lines = manifest_lines(dir);
  bool found = false;
  for (auto& [path, sum] : lines)
    if (path == rel) {
      sum = sha256;
      found = true;
    }
  if (!found) lines.emplace_back(rel, sha256);
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const auto& [path, sum] : lines) text += sum + "  " + path + "\n";
  fs::write_file_atomic(dir / kManifest, text);
}

std::string manifest_entry(const stdfs::path& dir, const std::string& rel) {
  for (const auto& [path, sum] : manifest_lines(dir))
    if (path == rel) return sum;
  return "";
}

}  // namespace mg
