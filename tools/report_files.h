// CSV for the tools' reports (JSON goes through nlohmann-json; files are
// written whole with colorgan::write_file_atomically, colorgan/files.h).
#pragma once

#include <string>

// A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma,
// a quote or a line break.
std::string csv_field(const std::string& text);
