#include "network/client.h"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <thread>

#include "network/channel.h"

namespace ark::net {

const char* OutcomeName(Exchange::Outcome o) {
  switch (o) {
    case Exchange::Outcome::kOk: return "ok";
    case Exchange::Outcome::kRefused: return "refused";
    case Exchange::Outcome::kError: return "error";
    case Exchange::Outcome::kNoAnswer: return "no_answer";
  }
  return "?";
}

namespace {

// Connections kept alive between requests (client.h), by requester key, address and the
// fingerprint the peer was checked against; each in use by one thread at a time.
class ConnectionPool {
 public:
  std::unique_ptr<Channel> Take(const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    const auto now = Clock::now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      it = now - it->second.since > kKeepAliveIdle ? idle_.erase(it) : std::next(it);
    }
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    std::unique_ptr<Channel> ch = std::move(it->second.ch);
    idle_.erase(it);
    return ch;
  }
  void Give(const std::string& key, std::unique_ptr<Channel> ch) {
    std::lock_guard<std::mutex> l(mu_);
    if (idle_.count(key) < kKeepAlivePerSite) idle_.emplace(key, Idle{std::move(ch), Clock::now()});
  }
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    idle_.clear();
  }

 private:
  struct Idle {
    std::unique_ptr<Channel> ch;
    Clock::time_point since;
  };
  std::mutex mu_;
  std::multimap<std::string, Idle> idle_;
};

ConnectionPool& Pool() {
  static ConnectionPool p;
  return p;
}

std::string Seconds(std::chrono::milliseconds d) { return fmt::format("{:g} s", d.count() / 1000.0); }

// The exchange itself; fills x (outcome, reason, body, answer hash).
// `kept` is a kept-alive channel to `to` (already checked against its fingerprint) or null (a new
// connection is made). Returns the channel when it may carry another request (an answer was read).
std::unique_ptr<Channel> Talk(const Site& site, const Member& to, const std::string& frame, std::chrono::milliseconds deadline,
                              std::unique_ptr<Channel> kept, Exchange* x) {
  const auto until = Clock::now() + deadline;
  Result<std::unique_ptr<Channel>> ch = std::move(kept);
  if (*ch) {
    (*ch)->set_deadline(until);
  } else {
    bool timed_out = false;
    ch = Channel::Connect(*site.key, to.address, until, &timed_out);
    if (!ch.ok()) {
      x->outcome = Exchange::Outcome::kNoAnswer;
      x->reason = timed_out ? "did not answer within its deadline of " + Seconds(deadline) + " (" + ch.status().message() + ")"
                            : "did not answer: " + ch.status().message();
      return nullptr;
    }
  }
  if ((*ch)->peer_fingerprint() != to.fingerprint) {
    x->outcome = Exchange::Outcome::kRefused;
    x->reason = "wrong certificate: " + to.address + " presented certificate " + (*ch)->peer_fingerprint() + ", not " + to.name +
                "'s: request not sent";
    return nullptr;
  }
  x->bytes += frame.size() + 4;
  Status w = (*ch)->WriteFrame(frame);
  auto got = w.ok() ? (*ch)->ReadFrame(kMaxFrameBytes) : Result<std::string>(w);
  if (!got.ok()) {
    x->outcome = Exchange::Outcome::kNoAnswer;
    x->reason = (*ch)->timed_out() ? "did not answer within its deadline of " + Seconds(deadline)
                                   : "did not answer: " + got.status().message();
    return nullptr;
  }
  x->bytes += got->size() + 4;
  auto st = OpenFrame(*got, "answer");
  auto a = st.ok() ? ParseAnswer(st->text) : Result<Answer>(st.status());
  if (!a.ok()) {
    x->outcome = Exchange::Outcome::kError;
    x->reason = "unreadable answer: " + a.status().message();
    return nullptr;
  }
  x->answer_sha256 = st->sha256;
  if (!VerifySignature((*ch)->peer_cert(), st->text, st->signature) || a->from != to.name || a->request_sha256 != x->request_sha256) {
    x->outcome = Exchange::Outcome::kError;
    x->reason = "the answer is not signed by " + to.name + " for this request: ignored";
    return nullptr;
  }
  x->outcome = a->status == "ok" ? Exchange::Outcome::kOk : a->status == "refused" ? Exchange::Outcome::kRefused : Exchange::Outcome::kError;
  x->reason = a->reason;
  x->body = std::move(a->body);
  return std::move(*ch);
}


// One signed request over a kept-alive connection (or a new one); fills `x` and appends the
// requester's ledger entry for it to `entries`. A kept-alive connection that fails before an answer
// (the site closed it when idle, or restarted) is not trusted with a second try of the same
// request: that attempt is ledgered as no_answer and a new request (new nonce) goes on a new
// connection, so a site that did receive the first never sees a replay of it.
void Attempt(const Site& site, const Member& to, const std::string& op, const std::string& project, const std::string& user,
             const Json& body, std::chrono::milliseconds deadline, bool may_reuse, Exchange* x, std::vector<Json>* entries) {
  const auto t0 = Clock::now();
  *x = Exchange();
  x->site = to.name;
  Request r;
  r.network = site.network.name;
  r.from = site.config.name;
  r.to = to.name;
  r.op = op;
  r.project = project;
  r.user = user;
  r.nonce = NewNonce();
  r.issued_at = UnixNow();
  r.expires_at = r.issued_at + site.request_ttl;
  r.body = body;
  const std::string text = RequestText(r);
  x->request_sha256 = Sha256Hex(text);
  const std::string key = site.key->fingerprint() + "|" + to.address + "|" + to.fingerprint;
  std::unique_ptr<Channel> kept = may_reuse ? Pool().Take(key) : nullptr;
  const bool reused = kept != nullptr;
  auto frame = SignFrame(*site.key, "request", text);
  if (!frame.ok()) {
    x->reason = frame.status().message();
  } else {
    try {
      std::unique_ptr<Channel> back = Talk(site, to, *frame, deadline, std::move(kept), x);
      if (back) Pool().Give(key, std::move(back));
    } catch (const std::exception& e) {
      x->outcome = Exchange::Outcome::kError;
      x->reason = std::string("internal error: ") + e.what();
    }
  }
  if (reused && x->outcome == Exchange::Outcome::kNoAnswer) x->reason = "kept-alive connection failed (" + x->reason + "): sent again as a new request";
  x->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  Json e = {{"type", "network.requested"}, {"network", site.network.name}, {"to", to.name}, {"address", to.address},
            {"op", op},  {"project", project}, {"user", user}, {"nonce", r.nonce}, {"request_sha256", x->request_sha256},
            {"answer_sha256", x->answer_sha256.empty() ? Json(nullptr) : Json(x->answer_sha256)}, {"outcome", OutcomeName(x->outcome)}};
  if (!x->reason.empty()) e["reason"] = x->reason;
  entries->push_back(std::move(e));
  if (reused && x->outcome == Exchange::Outcome::kNoAnswer) {
    const double before = x->seconds;
    const uint64_t bytes = x->bytes;
    Attempt(site, to, op, project, user, body, deadline, false, x, entries);
    x->seconds += before;
    x->bytes += bytes;
  }
}

// Puts the exchanges' entries on the requester's ledger as one batch; an exchange that is not on
// the ledger is not used.
void Record(const Site& site, std::vector<Json> entries, std::vector<Exchange>* xs) {
  Status logged = AppendNetworkEntries(site.ark_dir, std::move(entries));
  if (logged.ok()) return;
  for (Exchange& x : *xs) {
    if (!x.ok()) continue;
    x.outcome = Exchange::Outcome::kError;
    x.reason = "the ledger cannot record this exchange: " + logged.message();
    x.body = Json::object();
  }
}

}  // namespace

void DropKeptAliveConnections() { Pool().Clear(); }

Exchange SendRequest(const Site& site, const Member& to, const std::string& op, const std::string& project, const std::string& user,
                     const Json& body, std::chrono::milliseconds deadline) {
  std::vector<Exchange> xs(1);
  std::vector<Json> entries;
  Attempt(site, to, op, project, user, body, deadline, true, &xs[0], &entries);
  Record(site, std::move(entries), &xs);
  return std::move(xs[0]);
}

std::vector<Exchange> Broadcast(const Site& site, const std::string& op, const std::string& project, const std::string& user,
                                const Json& body, std::chrono::milliseconds deadline) {
  std::vector<Exchange> out(site.network.members.size());
  std::vector<std::vector<Json>> entries(out.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < out.size(); ++i) {
    threads.emplace_back([&, i] { Attempt(site, site.network.members[i], op, project, user, body, deadline, true, &out[i], &entries[i]); });
  }
  for (auto& t : threads) t.join();
  std::vector<Json> all;
  for (auto& es : entries)
    for (auto& e : es) all.push_back(std::move(e));
  Record(site, std::move(all), &out);
  return out;
}

Result<std::string> SendRawFrame(const SiteKey& key, const std::string& address, const std::string& frame,
                                 std::chrono::milliseconds deadline) {
  ARK_ASSIGN_OR_RETURN(auto ch, Channel::Connect(key, address, Clock::now() + deadline));
  ARK_RETURN_IF_ERROR(ch->WriteFrame(frame));
  ARK_ASSIGN_OR_RETURN(std::string got, ch->ReadFrame(kMaxFrameBytes));
  ARK_ASSIGN_OR_RETURN(SignedText st, OpenFrame(got, "answer"));
  return st.text;
}

std::string DescribeFailures(const std::vector<Exchange>& xs) {
  std::string s;
  for (const auto& x : xs) {
    if (x.ok()) continue;
    if (!s.empty()) s += "; ";
    s += x.site + (x.outcome == Exchange::Outcome::kRefused ? " refused: " : x.outcome == Exchange::Outcome::kNoAnswer ? " " : " error: ") +
         x.reason;
  }
  return s;
}

}  // namespace ark::net
