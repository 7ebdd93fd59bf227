#pragma once
// File helpers that never leave a half-written file behind: write to a temporary name in the
// same directory, flush to disk, rename over the target.
#include <filesystem>
#include <string>

namespace mg::fs {

namespace stdfs = std::filesystem;

std::string read_file(const stdfs::path& path);           // BadInput if unreadable
void write_file_atomic(const stdfs::path& path, const std::string& content);
void append_line(const stdfs::path& path, const std::string& line);  // for JSONL logs
void fsync_dir(const stdfs::path& dir);
bool exists(const stdfs::path& path);

}  // namespace mg::fs
