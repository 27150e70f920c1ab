// Files that are either wholly old or wholly new: written to a temporary name in the same
// directory, flushed to disk, then renamed over the target (rename is atomic on POSIX).
#pragma once

#include <filesystem>
#include <string>

namespace ntkssl::core {

// Throws std::runtime_error naming the file and the OS error on failure; the target is then
// untouched.
void write_file_atomically(const std::filesystem::path& target, const std::string& content);

std::string read_file(const std::filesystem::path& file);

}  // namespace ntkssl::core
