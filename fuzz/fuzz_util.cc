#include "fuzz_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "catalog/catalog.h"
#include "core/fs.h"

namespace ark::fuzz {
namespace {

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  char prev = '/';
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || (c == '.' && prev != '/') || (c == '/' && prev != '/');
    if (!ok) return false;
    prev = c;
  }
  return prev != '/';
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

std::string PickBase() {
  if (const char* t = std::getenv("ARK_FUZZ_TMP"); t && *t) return t;
  if (::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  if (const char* t = std::getenv("TMPDIR"); t && *t) return t;
  return "/tmp";
}

}  // namespace

std::vector<FilePart> SplitFiles(std::string_view data, const std::string& default_name) {
  std::vector<FilePart> parts;
  auto add = [&](std::string name, std::string_view body) {
    for (FilePart& p : parts) {
      if (p.name == name) {
        p.body = body;
        return;
      }
    }
    parts.push_back({std::move(name), body});
  };
  std::string name = default_name;
  size_t start = 0, pos = 0;
  while (pos <= data.size()) {
    const size_t eol = data.find('\n', pos);
    const size_t end = eol == std::string_view::npos ? data.size() : eol;
    std::string_view line = data.substr(pos, end - pos);
    if (line.substr(0, 4) == "=== " && ValidName(line.substr(4))) {
      if (pos > start || name != default_name) add(name, data.substr(start, pos - start));
      name = std::string(line.substr(4));
      start = eol == std::string_view::npos ? data.size() : eol + 1;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  if (data.size() > start || name != default_name || parts.empty()) add(name, data.substr(start));
  return parts;
}

const std::string& ScratchDir() {
  // Never destroyed: the exit handler below still needs it.
  static const std::string& dir = *new std::string([] {
    const std::string d = PickBase() + "/ark-fuzz-" + std::to_string(::getpid());
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
    std::filesystem::create_directories(d, ec);
    if (ec) Die("cannot create " + d + ": " + ec.message());
    std::atexit([] {
      std::error_code e;
      std::filesystem::remove_all(ScratchDir(), e);
    });
    return d;
  }());
  return dir;
}

std::string FreshDir(const std::string& name) {
  const std::string d = ScratchDir() + "/" + name;
  std::error_code ec;
  std::filesystem::remove_all(d, ec);
  std::filesystem::create_directories(d, ec);
  if (ec) Die("cannot create " + d + ": " + ec.message());
  return d;
}

void WriteBytes(const std::string& path, std::string_view body) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(body.data(), static_cast<std::streamsize>(body.size()));
  if (!f) Die("cannot write " + path);
}

void WriteParts(const std::string& dir, const std::vector<FilePart>& parts) {
  for (const FilePart& p : parts) {
    const std::string path = dir + "/" + p.name;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    if (ec) continue;  // "a" and "a/b" in one input: the second cannot be made
    if (std::filesystem::is_directory(path, ec)) continue;
    WriteBytes(path, p.body);
  }
}

std::unique_ptr<Catalog> FreshArk(const std::string& name) {
  const std::string d = FreshDir(name);
  auto c = Catalog::Create(d);
  if (!c.ok()) Die("cannot create an Ark in " + d + ": " + c.status().ToString());
  return std::move(*c);
}

}  // namespace ark::fuzz
