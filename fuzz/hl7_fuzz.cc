// HL7 v2 messages (hl7/hl7.h) and their live mapping (live/record.h FromHl7): parse, read every
// field the way the mapping and the ACK builder do, and build the ACK for parsed and unparsed
// input alike.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "hl7/hl7.h"
#include "live/record.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::AsText(data, size);
  auto m = hl7::Message::Parse(text);
  if (!m.ok()) {
    (void)hl7::MakeAck(nullptr, text, "AE", m.status());
    return 0;
  }
  (void)m->type();
  (void)m->trigger();
  (void)m->control_id();
  (void)m->version();
  for (int i = 0; i < m->segment_count() && i < 64; ++i) {
    const std::string id(m->segment_id(i));
    for (int f = 0; f <= 8; ++f) {
      (void)m->GetAt(i, f, 1, 0, 1);
      (void)m->GetAt(i, f, 2, 1, 2);
      (void)m->RawAt(i, f);
      (void)m->RepetitionsAt(i, f);
    }
    (void)m->Count(id);
    (void)m->IndexOf(id, 1);
    (void)m->Get(id, 3, 1, 0, 1, 0);
  }
  (void)hl7::ParseTimestamp(m->Get("MSH", 7));
  (void)hl7::Escape(m->Get("PID", 5));
  (void)hl7::Unescape(m->Raw("PID", 5), m->separators());
  auto rec = live::FromHl7(*m);
  (void)hl7::MakeAck(&*m, text, rec.ok() ? "AA" : "AE", rec.ok() ? Status::OK() : rec.status());
  return 0;
}
