// HL7 v2 messages: parsing (separators from MSH, escapes, repetitions, components,
// subcomponents; CR, LF or CRLF segment ends), HL7 timestamps and the ACK builder.
// Rules: /work/shared/design/SPECS.md "HL7 v2 and MLLP"; field mapping: docs/hl7-fhir.md.
//
// Additions beyond the agreed interface (C1): ParseTimestamp, Escape, Message::version, Raw,
// segment_count, segment_id, IndexOf, GetAt, RawAt, RepetitionsAt, separators, Unescape, FormatTimestamp,
// RepetitionTexts, ComponentOf, charset (charset.h). Nothing in the agreed interface changed.
//
// Thread safety: a Message is immutable after Parse; const methods may be called concurrently.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(hl7::Message m, hl7::Message::Parse(text));
//   std::string nhs = m.Get("PID", 3, 1, 0);     // PID-3.1, first repetition
//   std::string ack = hl7::MakeAck(&m, text, "AA", Status::OK());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"
#include "core/time.h"
#include "hl7/charset.h"

namespace ark::hl7 {

// The five separators a message declares in MSH-1 and MSH-2 (defaults "|^~\&").
struct Separators {
  char field = '|', component = '^', repetition = '~', escape = '\\', subcomponent = '&';
};

class Message {
 public:
  // Parses one HL7 v2 message: separators from MSH (MSH-1 field sep, MSH-2 encoding chars),
  // character set from MSH-18 (charset.h: the text is converted to UTF-8 before it is split, so
  // every value a Message returns is UTF-8; undeclared non-UTF-8 bytes are read as 8859/1),
  // segments ended by CR, LF or CRLF (empty lines are skipped), repetitions, components,
  // subcomponents, escapes (\F\ \S\ \T\ \R\ \E\ \Xhh..\ \.br\; unknown escapes are kept as
  // written). The first segment must be MSH with MSH-9 (type^trigger) and MSH-10 present.
  // Errors: InvalidArgument naming the segment (id and its 1-based position in the message) and
  // the field, e.g. "segment 3 (PV1), field 44: bad timestamp", "segment 1 (MSH), field 2: ...";
  // "segment 1 (MSH), field 18: unsupported character set ..." for one Ark cannot read. Time and memory are linear in the
  // size of the text (callers bound the size: live::ServeOptions::max_message_bytes).
  static Result<Message> Parse(std::string_view text);

  std::string_view type() const;        // MSH-9.1, "ADT" / "ORU"
  std::string_view trigger() const;     // MSH-9.2, "A01"
  std::string_view control_id() const;  // MSH-10
  std::string_view version() const;     // MSH-12.1, "2.4"

  // Unescaped value of field `field` (1-based; MSH-1 is the field separator itself, MSH-2 the
  // encoding characters, as in the standard) of the `occurrence`-th (0-based) segment with id
  // `seg`; repetition `rep` (0-based), component `comp` and subcomponent `sub` (1-based).
  // "" when absent.
  std::string Get(std::string_view seg, int field, int comp = 1, int rep = 0, int sub = 1,
                  int occurrence = 0) const;
  // The raw (still escaped) text of a whole field, all repetitions; "" when absent.
  std::string_view Raw(std::string_view seg, int field, int occurrence = 0) const;
  int Count(std::string_view seg) const;  // occurrences of a segment id
  int Repetitions(std::string_view seg, int field, int occurrence = 0) const;  // 0 when empty
  // The raw (still escaped) text of each repetition of field `field` of the index-th segment, in
  // one pass (iterating GetAt over repetitions instead is quadratic in their number).
  std::vector<std::string_view> RepetitionTexts(int index, int field) const;
  // Unescaped component `comp`, subcomponent `sub` (1-based) of one repetition's raw text.
  std::string ComponentOf(std::string_view repetition, int comp, int sub = 1) const;

  // Segments in message order (0-based index); the id is "MSH", "PID", ...
  int segment_count() const { return static_cast<int>(segments_.size()); }
  // 0-based index of the `occurrence`-th segment with id `seg`, -1 when absent.
  int IndexOf(std::string_view seg, int occurrence = 0) const;
  std::string_view segment_id(int index) const;
  // Field values of the index-th segment (same conventions as Get, by position, not id).
  std::string GetAt(int index, int field, int comp = 1, int rep = 0, int sub = 1) const;
  std::string_view RawAt(int index, int field) const;
  int RepetitionsAt(int index, int field) const;
  const Separators& separators() const { return sep_; }
  // The character set the message was read in (MSH-18, or what undeclared bytes were taken as).
  const Charset& charset() const { return charset_; }

 private:
  struct Span {
    uint32_t pos = 0, len = 0;
  };
  struct Segment {
    Span id;
    std::vector<Span> fields;  // fields[0] = the id; for MSH fields[1] = MSH-1 (the separator)
  };
  const Segment* Find(std::string_view seg, int occurrence) const;
  std::string_view FieldText(const Segment& s, int field) const;
  std::string Extract(std::string_view field_text, int comp, int rep, int sub) const;

  std::string text_;
  std::vector<Segment> segments_;
  Separators sep_;
  Charset charset_;
};

// Decodes HL7 escape sequences in `text` (as Get does); unknown escapes are kept verbatim. The
// bytes of a hex escape \Xhh..\ are characters in `cs` (8859/1 by default) and come out as UTF-8.
std::string Unescape(std::string_view text, const Separators& sep = {}, const Charset& cs = {});
// Escapes the separators and the escape character in `text` (\F\ \S\ \T\ \R\ \E\), and CR/LF
// as \X0D\ / \X0A\, so the result can be placed in one component.
std::string Escape(std::string_view text, const Separators& sep = {});

// HL7 DTM/TS: YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ]. Without an offset the time is taken as
// written (Ark keeps local civil time, core/time.h); with an offset it is converted to UTC
// (written time minus offset). Fractions are dropped. A TS's second component ("^M" precision,
// "20250101115500^M") is ignored by the caller: pass the first component. Errors:
// InvalidArgument with a short reason ("month 13", "bad offset", "expected digits").
Result<Seconds> ParseTimestamp(std::string_view ts);
// "YYYYMMDDHHMMSS" of t.
std::string FormatTimestamp(Seconds t);

// The ACK for a received message: MSH (sender/receiver swapped, MSH-7 now (UTC), MSH-9
// "ACK^<trigger>^ACK", MSH-10 a new control id ("ACK" + incoming control id, cut to 20 chars),
// same processing id and version), MSA|<code>|<control id of the message>, and for "AE"/"AR" an
// ERR segment with ERR-2 error location (segment id^sequence^field, parsed from an error message
// of the form "segment N (SEG), field F: ...") and ERR-8 the text (escaped). Segments end with
// CR. With `msg`, the ACK is written in the message's character set (UTF-8 text converted back;
// MSH-18 repeated when the message declared one), so MSA-2 holds the sender's own bytes. `msg` may be null when the input could not be parsed at all (then fields are taken from
// what of MSH could be read from `raw`, best effort; defaults when nothing can be read).
// Never fails.
std::string MakeAck(const Message* msg, std::string_view raw, std::string_view code,
                    const Status& error);

}  // namespace ark::hl7
