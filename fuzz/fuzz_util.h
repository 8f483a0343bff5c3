// Helpers shared by the libFuzzer harnesses (docs/fuzzing.md).
//
// Multi-file inputs: parsers that read a directory (an OMOP export, an extract with its feed
// spec, a ledger) get one input holding several files. A line "=== NAME" starts file NAME
// (1-64 of [A-Za-z0-9_./-], a relative path whose parts do not start with a dot); text before
// the first such line belongs to the harness's default file. Any other line is content, so a
// mutated header is just content.
//
// Scratch files live in a per-process directory under $ARK_FUZZ_TMP, else /dev/shm (when
// writable), else $TMPDIR or /tmp; it is removed at exit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ark {
class Catalog;
}

namespace ark::fuzz {

struct FilePart {
  std::string name;
  std::string_view body;
};

// Splits `data` as described above. Later parts with an earlier part's name replace it.
std::vector<FilePart> SplitFiles(std::string_view data, const std::string& default_name);

// The process's scratch directory (created on first use).
const std::string& ScratchDir();
// ScratchDir()/name, emptied (removed and created again).
std::string FreshDir(const std::string& name);
// Writes `body` to `path`; aborts on an I/O error (a harness bug, not a finding).
void WriteBytes(const std::string& path, std::string_view body);
// Writes every part into `dir` (which must exist).
void WriteParts(const std::string& dir, const std::vector<FilePart>& parts);

// A new, empty Ark (catalog only) in ScratchDir()/name.
std::unique_ptr<Catalog> FreshArk(const std::string& name);

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ark::fuzz
