// Files the tools write for people and scripts to read: written whole or not at
// all, with real JSON and CSV quoting.
#pragma once

#include <filesystem>
#include <string>

// Writes `text` to a temporary file beside `path`, then renames it over `path`:
// readers see the old file or the new one, never a part. Throws std::runtime_error.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

// A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma,
// a quote or a line break.
std::string csv_field(const std::string& text);
