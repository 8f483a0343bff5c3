#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "privacy/key.h"
#include "governance/gate.h"

namespace ark::server {

using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kCheckFor = std::chrono::seconds(60);
constexpr auto kIdle = std::chrono::hours(1);
constexpr auto kLifetime = std::chrono::hours(12);
constexpr size_t kMaxSessions = 10000;

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ';')) ++at;
    const size_t end = std::min(header.find(';', at), header.size());
    const std::string part = header.substr(at, end - at);
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 && part[name.size()] == '=')
      return part.substr(name.size() + 1);
    at = end;
  }
  return "";
}
}  // namespace

std::mutex& LedgerMutex() {
  static std::mutex mu;
  return mu;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(bytes)) != 1) return "";
  return ToHex(b.data(), b.size());
}

bool Principal::Has(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::string Principal::Name() const {
  return kind == Kind::kUser ? user : kind == Kind::kInterim ? "interim-token" : "-";
}

Auth::Auth(std::string ark_dir, std::string interim_token, SignInLimits limits)
    : ark_dir_(std::move(ark_dir)), interim_(std::move(interim_token)), limits_(limits) {}

std::optional<std::vector<std::string>> Auth::Check(const std::string& user, const std::string& token) {
  const std::string key = user + ":" + token;
  const auto now = Clock::now();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = cache_.find(key); it != cache_.end() && it->second.expires > now) return it->second.roles;
  }
  std::optional<std::vector<std::string>> roles;
  if (auto cat = Catalog::Open(ark_dir_); cat.ok()) {
    // A wrong token is refused on the ledger by governance (gov::Identify).
    std::lock_guard<std::mutex> g(LedgerMutex());
    if (auto actor = gov::Identify(**cat, user, token); actor.ok()) roles = actor->roles;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (cache_.size() > 1000) cache_.clear();
  cache_[key] = {now + kCheckFor, roles};
  return roles;
}

Principal Auth::FromBearer(const std::string& header) {
  static const std::string kBearer = "Bearer ";
  Principal p;
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) return p;
  const std::string token = header.substr(kBearer.size());
  if (!interim_.empty() && token.size() == interim_.size() &&
      CRYPTO_memcmp(token.data(), interim_.data(), token.size()) == 0) {
    p.kind = Principal::Kind::kInterim;
    return p;
  }
  const size_t colon = token.find(':');
  if (colon == std::string::npos || colon == 0) return p;
  auto roles = Check(token.substr(0, colon), token.substr(colon + 1));
  if (!roles) return p;
  p.kind = Principal::Kind::kUser;
  p.user = token.substr(0, colon);
  p.roles = *roles;
  return p;
}

Principal Auth::FromCookie(const std::string& cookie_header) {
  Principal p;
  const std::string id = CookieValue(cookie_header, "ark_session");
  if (id.empty()) return p;
  Session s;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return p;
    const auto now = Clock::now();
    if (now - it->second.seen > kIdle || now - it->second.created > kLifetime) {
      sessions_.erase(it);
      return p;
    }
    it->second.seen = now;
    s = it->second;
  }
  auto roles = Check(s.user, s.token);
  if (!roles) {  // the token was replaced: the session ends
    SignOut(id);
    return p;
  }
  p.kind = Principal::Kind::kUser;
  p.user = s.user;
  p.roles = *roles;
  p.session = id;
  p.csrf = s.csrf;
  return p;
}

int Auth::Throttled(const std::string& key, int limit, Clock::time_point now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  auto& q = it->second;
  while (!q.empty() && now - q.front() >= limits_.window) q.pop_front();
  if (static_cast<int>(q.size()) < limit) return 0;
  const auto wait = std::chrono::duration_cast<std::chrono::seconds>(q.front() + limits_.window - now).count();
  return static_cast<int>(std::max<int64_t>(1, wait));
}

void Auth::Failed(const std::string& key, Clock::time_point now) {
  if (failures_.size() > 100000) failures_.clear();
  failures_[key].push_back(now);
}

int Auth::CodeThrottled(const std::string& address) {
  std::lock_guard<std::mutex> l(mu_);
  return Throttled("code-addr:" + address, limits_.max_failures_per_address, Clock::now());
}

void Auth::CodeFailed(const std::string& address) {
  std::lock_guard<std::mutex> l(mu_);
  Failed("code-addr:" + address, Clock::now());
}

SignInResult Auth::SignIn(const std::string& user, const std::string& token, const std::string& address) {
  SignInResult r;
  const auto now = Clock::now();
  const std::string ukey = "user:" + user, akey = "addr:" + address;
  {
    std::lock_guard<std::mutex> l(mu_);
    const int wait = std::max(Throttled(ukey, limits_.max_failures_per_user, now),
                              Throttled(akey, limits_.max_failures_per_address, now));
    if (wait > 0) {
      r.http = 429;
      r.retry_after_s = wait;
      r.error = "too many failed sign-ins for '" + user + "' or from " + address + ": try again in " +
                std::to_string(wait) + " s";
      return r;
    }
  }
  // Checked afresh (not from the cache): a sign-in is the moment the token is presented.
  std::optional<std::vector<std::string>> roles;
  if (auto cat = Catalog::Open(ark_dir_); cat.ok()) {
    std::lock_guard<std::mutex> g(LedgerMutex());
    if (auto actor = gov::Identify(**cat, user, token); actor.ok()) roles = actor->roles;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (!roles) {
    Failed(ukey, now);
    Failed(akey, now);
    r.http = 401;
    r.error = "unknown user or wrong token for '" + user + "'";
    return r;
  }
  failures_.erase(ukey);
  if (sessions_.size() >= kMaxSessions) {  // the least recently seen goes
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                   [](const auto& a, const auto& b) { return a.second.seen < b.second.seen; });
    sessions_.erase(oldest);
  }
  r.session = RandomHex(32);
  r.csrf = RandomHex(32);
  if (r.session.empty() || r.csrf.empty()) {
    r.http = 500;
    r.error = "no random bytes for a session";
    return r;
  }
  sessions_[r.session] = {user, token, r.csrf, now, now};
  r.who.kind = Principal::Kind::kUser;
  r.who.user = user;
  r.who.roles = *roles;
  r.who.session = r.session;
  r.who.csrf = r.csrf;
  return r;
}

void Auth::SignOut(const std::string& session) {
  std::lock_guard<std::mutex> l(mu_);
  sessions_.erase(session);
}

size_t Auth::sessions() const {
  std::lock_guard<std::mutex> l(mu_);
  return sessions_.size();
}

}  // namespace ark::server
