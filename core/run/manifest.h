#pragma once
// Checksums of a directory's files, so that a checkpoint damaged on disk (a flipped byte, a
// file cut short or lost) is recognised instead of being trained on.
// MANIFEST format, one line per file, sorted by path (as sha256sum writes it, so that
// `sha256sum -c MANIFEST` in the directory checks it too):
//   <64 hex digits of SHA-256>  <path relative to the directory, '/'-separated>
#include <filesystem>
#include <string>
#include <vector>

namespace mg {

// Lowercase hex SHA-256 of a file's contents. BadInput if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

// Writes <dir>/MANIFEST (atomically) listing every regular file under dir, recursively, but
// MANIFEST itself.
void write_manifest(const std::filesystem::path& dir);

// True if MANIFEST exists and parses, and every file it lists exists with the listed
// checksum. Otherwise false, and `problem` (when given) names the file and what is wrong.
// Files present but not listed are not a problem, but each of `required` must be listed (an
// empty MANIFEST would otherwise vouch for any file put beside it). With `only`, just those
// files (paths relative to dir) are checked, and each of them must be listed.
bool verify_manifest(const std::filesystem::path& dir, std::string* problem,
                     const std::vector<std::string>& only = {}, const std::vector<std::string>& required = {});

// Sets the line of `rel` in <dir>/MANIFEST to `sha256` (adding it, or the MANIFEST, if
// missing) and leaves every other line as it is; written atomically. For directories whose
// files are written one by one (the run directory's recipe.yaml and tokenizer.model).
void set_manifest_entry(const std::filesystem::path& dir, const std::string& rel, const std::string& sha256);

// The checksum MANIFEST lists for `rel`, or "" when the MANIFEST or its line is missing (a
// malformed MANIFEST lists nothing).
std::string manifest_entry(const std::filesystem::path& dir, const std::string& rel);

}  // namespace mg
