#include "network/client.h"

#include <fmt/format.h>

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

std::string Seconds(std::chrono::milliseconds d) { return fmt::format("{:g} s", d.count() / 1000.0); }

// The exchange itself; fills x (outcome, reason, body, answer hash).
void Talk(const Site& site, const Member& to, const std::string& frame, std::chrono::milliseconds deadline, Exchange* x) {
  const auto until = Clock::now() + deadline;
  bool timed_out = false;
  auto ch = Channel::Connect(*site.key, to.address, until, &timed_out);
  if (!ch.ok()) {
    x->outcome = Exchange::Outcome::kNoAnswer;
    x->reason = timed_out ? "did not answer within its deadline of " + Seconds(deadline) + " (" + ch.status().message() + ")"
                          : "did not answer: " + ch.status().message();
    return;
  }
  if ((*ch)->peer_fingerprint() != to.fingerprint) {
    x->outcome = Exchange::Outcome::kRefused;
    x->reason = "wrong certificate: " + to.address + " presented certificate " + (*ch)->peer_fingerprint() + ", not " + to.name +
                "'s: request not sent";
    return;
  }
  x->bytes += frame.size() + 4;
  Status w = (*ch)->WriteFrame(frame);
  auto got = w.ok() ? (*ch)->ReadFrame(kMaxFrameBytes) : Result<std::string>(w);
  if (!got.ok()) {
    x->outcome = Exchange::Outcome::kNoAnswer;
    x->reason = (*ch)->timed_out() ? "did not answer within its deadline of " + Seconds(deadline)
                                   : "did not answer: " + got.status().message();
    return;
  }
  x->bytes += got->size() + 4;
  auto st = OpenFrame(*got, "answer");
  auto a = st.ok() ? ParseAnswer(st->text) : Result<Answer>(st.status());
  if (!a.ok()) {
    x->outcome = Exchange::Outcome::kError;
    x->reason = "unreadable answer: " + a.status().message();
    return;
  }
  x->answer_sha256 = st->sha256;
  if (!VerifySignature((*ch)->peer_cert(), st->text, st->signature) || a->from != to.name || a->request_sha256 != x->request_sha256) {
    x->outcome = Exchange::Outcome::kError;
    x->reason = "the answer is not signed by " + to.name + " for this request: ignored";
    return;
  }
  x->outcome = a->status == "ok" ? Exchange::Outcome::kOk : a->status == "refused" ? Exchange::Outcome::kRefused : Exchange::Outcome::kError;
  x->reason = a->reason;
  x->body = std::move(a->body);
}

}  // namespace

Exchange SendRequest(const Site& site, const Member& to, const std::string& op, const std::string& project, const std::string& user,
                     const Json& body, std::chrono::milliseconds deadline) {
  const auto t0 = Clock::now();
  Exchange x;
  x.site = to.name;
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
  x.request_sha256 = Sha256Hex(text);
  auto frame = SignFrame(*site.key, "request", text);
  if (!frame.ok()) {
    x.reason = frame.status().message();
  } else {
    try {
      Talk(site, to, *frame, deadline, &x);
    } catch (const std::exception& e) {
      x.outcome = Exchange::Outcome::kError;
      x.reason = std::string("internal error: ") + e.what();
    }
  }
  x.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  Json e = {{"type", "network.requested"}, {"network", site.network.name}, {"to", to.name}, {"address", to.address},
            {"op", op},  {"project", project}, {"user", user}, {"nonce", r.nonce}, {"request_sha256", x.request_sha256},
            {"answer_sha256", x.answer_sha256.empty() ? Json(nullptr) : Json(x.answer_sha256)}, {"outcome", OutcomeName(x.outcome)}};
  if (!x.reason.empty()) e["reason"] = x.reason;
  Status logged = AppendNetworkEntry(site.ark_dir, std::move(e));
  if (!logged.ok() && x.ok()) {  // an exchange that is not on the ledger is not used
    x.outcome = Exchange::Outcome::kError;
    x.reason = "the ledger cannot record this exchange: " + logged.message();
    x.body = Json::object();
  }
  return x;
}

std::vector<Exchange> Broadcast(const Site& site, const std::string& op, const std::string& project, const std::string& user,
                                const Json& body, std::chrono::milliseconds deadline) {
  std::vector<Exchange> out(site.network.members.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < out.size(); ++i) {
    threads.emplace_back([&, i] { out[i] = SendRequest(site, site.network.members[i], op, project, user, body, deadline); });
  }
  for (auto& t : threads) t.join();
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
