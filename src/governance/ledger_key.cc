#include "governance/ledger_key.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/fs.h"
#include "privacy/key.h"

namespace ark::gov {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOldKey = "/ledger/ledger.key";  // where Arks kept the key before

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// "ark.ledger/2969a8c00d6ed7f2" -> "2969a8c00d6ed7f2" (any origin: the part after its last '/').
std::string LedgerId(const std::string& origin) {
  size_t slash = origin.rfind('/');
  return slash == std::string::npos ? origin : origin.substr(slash + 1);
}

std::string Canonical(const std::string& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  fs::path c = fs::weakly_canonical(abs, ec);
  return (ec ? abs : c).lexically_normal().string();
}

Status CheckOutsideArk(const std::string& key, const std::string& ark_dir) {
  std::string k = Canonical(key), a = Canonical(ark_dir);
  while (a.size() > 1 && a.back() == '/') a.pop_back();
  if (k == a || k.rfind(a + "/", 0) == 0) {
    return Status::InvalidArgument("ledger signing key " + key + " is inside the Ark " + ark_dir +
                                   ": keep it outside the Ark's data directory (--ledger-key PATH or ARK_LEDGER_KEY)");
  }
  return Status::OK();
}

// Moves ARK/ledger/ledger.key (an Ark made before keys lived outside it) to `to`.
Status MoveOldKeyOut(const std::string& ark_dir, const std::string& to) {
  const std::string from = ark_dir + kOldKey;
  if (!PathExists(from)) return Status::OK();
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(from));
  if (PathExists(to)) {
    ARK_ASSIGN_OR_RETURN(std::string there, ReadFile(to));
    if (there != text) {
      return Status::FailedPrecondition(from + " and " + to + " are different keys: keep the right one outside the Ark and remove the other");
    }
  } else {
    ARK_RETURN_IF_ERROR(MakeDirs(fs::path(to).parent_path().string()));
    ARK_RETURN_IF_ERROR(WriteFileAtomic(to, text));  // 0600, fsync'ed with its directory
  }
  if (std::remove(from.c_str()) != 0) return Status::IOError("cannot remove " + from + " after copying it to " + to);
  ARK_RETURN_IF_ERROR(FsyncPath(ark_dir + "/ledger"));
  std::fprintf(stderr, "ark: moved the ledger's signing key out of the Ark: %s -> %s (keep it there, outside the Ark, and back it up)\n",
               from.c_str(), to.c_str());
  return Status::OK();
}

}  // namespace

Result<std::string> LedgerKeyPath(const std::string& ark_dir, const std::string& origin) {
  const std::string file = LedgerId(origin) + ".key";
  std::string path = Env("ARK_LEDGER_KEY");
  std::error_code ec;
  if (!path.empty()) {
    if (path.back() == '/' || fs::is_directory(path, ec)) path = (fs::path(path) / file).string();
  } else if (std::string xdg = Env("XDG_CONFIG_HOME"); !xdg.empty() && xdg[0] == '/') {
    path = xdg + "/ark/keys/" + file;
  } else if (std::string home = Env("HOME"); !home.empty()) {
    path = home + "/.config/ark/keys/" + file;
  } else {
    return Status::InvalidArgument("no place for the ledger's signing key: give --ledger-key PATH or set ARK_LEDGER_KEY (or HOME)");
  }
  ARK_RETURN_IF_ERROR(CheckOutsideArk(path, ark_dir));
  return path;
}

Result<NoteSigner> CreateLedgerKey(const std::string& ark_dir) {
  uint8_t id[8];
  if (RAND_bytes(id, sizeof id) != 1) return Status::Internal("no randomness for the ledger's name");
  ARK_ASSIGN_OR_RETURN(NoteSigner s, NoteSigner::Generate("ark.ledger/" + ToHex(id, sizeof id)));
  ARK_ASSIGN_OR_RETURN(std::string path, LedgerKeyPath(ark_dir, s.name()));
  if (PathExists(path)) {
    return Status::FailedPrecondition(path + " already holds a signing key: a new Ark's ledger needs a key file of its own");
  }
  ARK_RETURN_IF_ERROR(s.Save(path));
  return s;
}

Result<NoteSigner> LoadLedgerKey(const std::string& ark_dir, const std::string& vkey) {
  ARK_ASSIGN_OR_RETURN(NoteVerifier v, NoteVerifier::Parse(vkey));
  ARK_ASSIGN_OR_RETURN(std::string path, LedgerKeyPath(ark_dir, v.name()));
  ARK_RETURN_IF_ERROR(MoveOldKeyOut(ark_dir, path));
  if (!PathExists(path)) {
    return Status::NotFound("the ledger's signing key is not at " + path +
                            " (give --ledger-key PATH or ARK_LEDGER_KEY where the operator keeps it)");
  }
  ARK_ASSIGN_OR_RETURN(NoteSigner s, NoteSigner::Load(path));
  if (s.VerifierKey() != v.VerifierKey()) {
    return Status::PermissionDenied(path + " is the key of ledger " + s.name() + ", not of this Ark's ledger " + v.name());
  }
  return s;
}

}  // namespace ark::gov
