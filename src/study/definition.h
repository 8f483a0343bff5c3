// Study definitions (docs/study-definitions.md): a population, variables relative to an index
// date, and measures over intervals, parsed from YAML into this checked tree. Every engine (the
// native evaluator, the SQL compiler) reads the same tree, so a definition means one thing.
//
// Parsing checks everything before anything runs: unknown keys, unknown codelists or
// variables, windows with from > to, type mismatches in expressions. Errors are
// InvalidArgument "<file>:<line>:<col>: <what>" (1-based, from the YAML marks).
//
// Example:
//   ARK_ASSIGN_OR_RETURN(study::Definition def, study::ParseDefinitionFile("definitions/diabetes.yaml"));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"

namespace ark::study {

enum class Type { kBool, kInt, kFloat, kDate, kStr };
const char* TypeName(Type t);
inline bool IsNumeric(Type t) { return t == Type::kInt || t == Type::kFloat; }

// A set of codes, each "SYSTEM/CODE" as the store holds them (or the bare code, `system: none`),
// and prefixes (from `J44*` and from ranges `E10-E14`, study/codes.h): a code is in the list when
// it is one of `codes` or starts with one of `prefixes`.
struct Codelist {
  std::string name;
  std::vector<std::string> codes;     // sorted, unique
  std::vector<std::string> prefixes;  // sorted, unique
};

// Built-in person variables, evaluated at the index date.
// kIntervalStart/kIntervalEnd: the measure interval being evaluated (for dataset rows both are the
// index day); only with a fixed index date.
enum class Builtin { kAge, kSex, kImdDecile, kPractice, kRegistered, kAlive, kIndexDate, kIntervalStart, kIntervalEnd };
const char* BuiltinName(Builtin b);

// An expression over variables, built-ins and literals. Types are checked by the parser.
struct Expr {
  enum class Kind { kLiteral, kVariable, kBuiltin, kNot, kNeg, kBinary, kIsNull };
  Kind kind = Kind::kLiteral;
  Type type = Type::kBool;
  double num = 0;          // kLiteral of bool (0/1), int or float; kIsNull: 1 for 'is not null'
  std::string str;         // kLiteral of str; kBinary: the operator (+ - * / < <= > >= = != and or)
  int ref = -1;            // kVariable: index into Definition::variables; kBuiltin: Builtin
  std::vector<Expr> args;  // kNot/kNeg/kIsNull: 1; kBinary: 2
};

// A window relative to the index day, in whole days, both ends inclusive; nullopt = unbounded.
// A bound with *_end set is relative to the end of the measure interval instead (interval_end;
// the index day for dataset rows).
struct Window {
  std::optional<int32_t> from, to;
  bool from_end = false, to_end = false;
};

enum class Agg { kExists, kCount, kFirst, kLast, kMin, kMax, kMean };
const char* AggName(Agg a);

struct Variable {
  enum class Kind { kAggregate, kExpr, kBand };
  enum class Output { kDate, kValue, kCode, kEnd, kLength };  // of first/last
  // Which events of the codelist a window takes (D1, D2: the window's first and last day):
  // kStart: the event starts in [D1, D2]; kOverlap: it starts on or before D2 and has no end or
  // ends on or after D1's start; kSpan: it starts on or before D1 and has no end or ends after D2.
  enum class Match { kStart, kOverlap, kSpan };
  std::string name;
  int line = 0, col = 0;
  Type type = Type::kBool;
  Kind kind = Kind::kAggregate;
  // kAggregate
  Agg agg = Agg::kExists;
  int codelist = -1;
  Window window;
  Match match = Match::kStart;
  Output output = Output::kDate;
  // kExpr: expr; kBand: expr is the banded input, breaks ascending, labels.size() == breaks.size() + 1
  Expr expr;
  std::vector<double> breaks;
  std::vector<std::string> labels;
};

struct IndexSpec {
  enum class Kind { kFixed, kFirst, kEach };
  Kind kind = Kind::kFixed;
  int32_t day = 0;     // kFixed: days since 1970-01-01
  int codelist = -1;   // kFirst / kEach
  bool at_end = false; // use the event's end time (events without one are skipped)
  // kFirst only: the entry condition (bool, over variables evaluated with the candidate event as
  // the index): the index is the earliest event at which it is true (OHDSI Circe's primary event
  // with its observation-window requirement), not the first event then filtered.
  std::optional<Expr> where;
};

struct Population {
  bool registered = false;
  bool alive = false;
  std::optional<int> age_min, age_max;  // inclusive
  std::optional<Expr> where;            // bool
};

struct Interval {
  int32_t start = 0, end = 0;  // days, inclusive
};

struct Measure {
  std::string name;
  int numerator = -1, denominator = -1;  // variable indexes (bool or int)
  std::vector<int> group_by;             // variable indexes
  std::vector<Interval> intervals;
};

struct Definition {
  std::string name;
  std::string path;    // the YAML file ("" when parsed from text)
  std::string sha256;  // hex, of the YAML text followed by every codelist file's bytes
  std::vector<Codelist> codelists;
  IndexSpec index;
  Population population;
  std::vector<Variable> variables;
  std::vector<Measure> measures;
  // Some window or expression refers to the interval's end: measures are then evaluated once per
  // distinct (interval start, interval end), not once per interval start.
  bool uses_interval_end = false;
};

// Parses `yaml` (named `name` in messages); codelist files are relative to `base_dir`.
Result<Definition> ParseDefinition(std::string_view yaml, const std::string& name, const std::string& base_dir);
Result<Definition> ParseDefinitionFile(const std::string& path);

// Parses an expression (used by the YAML parser; exposed for tests). `vars` are the variables
// defined so far (references to later ones are errors). Errors carry `line`:`col` of the text.
Result<Expr> ParseExpr(std::string_view text, const std::vector<Variable>& vars, const std::string& name, int line, int col);

}  // namespace ark::study
