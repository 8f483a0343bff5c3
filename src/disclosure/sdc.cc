#include "disclosure/sdc.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <regex>

#include "core/csv.h"

namespace ark::sdc {

Result<RuleSet> ParseRuleSet(const std::string& name) {
  if (name == "opensafely") return RuleSet::kOpenSafely;
  if (name == "acro") return RuleSet::kAcro;
  return Status::InvalidArgument("unknown rule set '" + name + "' (opensafely or acro)");
}

const char* RuleSetName(RuleSet r) { return r == RuleSet::kAcro ? "acro" : "opensafely"; }

int64_t Midpoint6(int64_t x) { return x == 0 ? 0 : (x + 5) / 6 * 6 - 3; }
int64_t Round5(int64_t x) { return (x + 2) / 5 * 5; }

namespace {

// Primary check of one count; fills outcome/reason/published.
void Primary(int64_t x, const SdcOptions& o, CellCheck* c) {
  c->raw = x;
  if (o.rules == RuleSet::kOpenSafely) {
    if (x <= o.redact_at_or_below) {
      c->outcome = "redacted";
      c->reason = "count " + std::to_string(x) + " <= " + std::to_string(o.redact_at_or_below);
      return;
    }
    c->outcome = "ok";
    c->published = o.rounding == Rounding::kMidpoint6 ? Midpoint6(x) : o.rounding == Rounding::kNone ? x : Round5(x);
    return;
  }
  if (x == 0 && o.zeros_disclosive) {
    c->outcome = "primary";
    c->reason = "zero cell (zeros are disclosive)";
    return;
  }
  if (x > 0 && x < o.threshold) {
    c->outcome = "primary";
    c->reason = "count " + std::to_string(x) + " < threshold " + std::to_string(o.threshold);
    return;
  }
  c->outcome = "ok";
  c->published = x;
}

// Secondary suppression: while some row or column (of more than one cell) has exactly one hidden
// cell, hide its smallest visible cell (the cheapest loss of information).
int Secondary(std::vector<std::vector<CellCheck>>& cells) {
  const size_t R = cells.size(), C = R ? cells[0].size() : 0;
  int added = 0;
  auto hide = [&](CellCheck& c, const std::string& why) {
    c.published.reset();
    c.outcome = "secondary";
    c.reason = why;
    ++added;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < R && C > 1; ++r) {
      int hidden = 0;
      for (size_t c = 0; c < C; ++c) hidden += !cells[r][c].published;
      if (hidden != 1) continue;
      size_t best = C;
      for (size_t c = 0; c < C; ++c) {
        if (cells[r][c].published && (best == C || cells[r][c].raw < cells[r][best].raw)) best = c;
      }
      if (best < C) {
        hide(cells[r][best], "protects a suppressed cell in the same row from the row total");
        changed = true;
      }
    }
    for (size_t c = 0; c < C && R > 1; ++c) {
      int hidden = 0;
      for (size_t r = 0; r < R; ++r) hidden += !cells[r][c].published;
      if (hidden != 1) continue;
      size_t best = R;
      for (size_t r = 0; r < R; ++r) {
        if (cells[r][c].published && (best == R || cells[r][c].raw < cells[best][c].raw)) best = r;
      }
      if (best < R) {
        hide(cells[best][c], "protects a suppressed cell in the same column from the column total");
        changed = true;
      }
    }
  }
  return added;
}

// Counts written into row or column labels: "n=3", "(3)", "3 patients".
struct LabelCounts {
  bool small = false;   // one of them is at or below the rule set's small-count limit
  std::string reasons;  // for the summary, each label named
};

LabelCounts CountsInLabels(const CountTable& t, const SdcOptions& o) {
  LabelCounts lc;
  if (t.measures) return lc;  // group values come from the definition's variables, not free text
  static const std::regex kCount(
      R"((?:\bn\s*=\s*(\d+))|(?:\(\s*(\d+)\s*\))|(?:\b(\d+)\s+(?:people|persons|patients|cases|deaths|admissions|children|men|women)\b))",
      std::regex::icase);
  const int64_t limit = o.rules == RuleSet::kOpenSafely ? o.redact_at_or_below : o.threshold - 1;
  auto scan = [&](const std::string& label) {
    for (auto it = std::sregex_iterator(label.begin(), label.end(), kCount); it != std::sregex_iterator(); ++it) {
      const std::string digits = (*it)[1].matched ? (*it)[1] : (*it)[2].matched ? (*it)[2] : (*it)[3];
      const int64_t n = digits.size() > 12 ? INT64_MAX : std::stoll(digits);
      const bool small = n <= limit;
      lc.small |= small;
      if (!lc.reasons.empty()) lc.reasons += "; ";
      lc.reasons += "label '" + label + "' contains a count (" + digits + ")" +
                    (small ? ": at or below " + std::to_string(limit) + ", refused" : ": a checker must confirm it may be released");
    }
  };
  for (const std::string& l : t.row_labels) scan(l);
  for (const std::string& l : t.col_labels) scan(l);
  return lc;
}

}  // namespace

Result<TableCheck> CheckTable(const CountTable& t, const SdcOptions& o) {
  TableCheck out;
  out.row_labels = t.row_labels;
  out.col_labels = t.col_labels;
  const size_t R = t.counts.size(), C = t.col_labels.size();
  out.cells.assign(R, std::vector<CellCheck>(C));
  for (size_t r = 0; r < R; ++r) {
    if (t.counts[r].size() != C) return Status::InvalidArgument("row " + std::to_string(r + 1) + " has the wrong number of cells");
    for (size_t c = 0; c < C; ++c) {
      int64_t x = t.counts[r][c];
      if (x < 0) return Status::InvalidArgument("a count cannot be negative: " + std::to_string(x));
      if (!t.withheld.empty() && r < t.withheld.size() && c < t.withheld[r].size() && t.withheld[r][c]) {
        out.cells[r][c].outcome = o.rules == RuleSet::kOpenSafely ? "redacted" : "primary";
        out.cells[r][c].reason = "already redacted in the output";
      } else {
        Primary(x, o, &out.cells[r][c]);
      }
      out.primary += !out.cells[r][c].published;
    }
  }
  // A list of counts (one column) is protected by recomputing the total from published cells;
  // tables with several columns also get secondary suppression.
  if (o.secondary_suppression && C > 1 && out.primary > 0 && !t.measures) out.secondary = Secondary(out.cells);
  out.row_totals.assign(R, std::nullopt);
  out.col_totals.assign(C, std::nullopt);
  for (size_t r = 0; r < R; ++r) {
    for (size_t c = 0; c < C; ++c) {
      if (auto& p = out.cells[r][c].published) {
        out.row_totals[r] = out.row_totals[r].value_or(0) + *p;
        out.col_totals[c] = out.col_totals[c].value_or(0) + *p;
        out.total = out.total.value_or(0) + *p;
      }
    }
  }
  const int hidden = out.primary + out.secondary;
  const LabelCounts labels = CountsInLabels(t, o);
  if (o.rules == RuleSet::kOpenSafely) {
    out.status = "pass";
    out.summary = "opensafely: " + std::to_string(out.primary) + " redacted (<= " + std::to_string(o.redact_at_or_below) +
                  "), " + (out.secondary ? std::to_string(out.secondary) + " secondary, " : "") +
                  (o.rounding == Rounding::kMidpoint6 ? "midpoint-6 rounding" : o.rounding == Rounding::kNone ? "no rounding" : "rounded to 5") +
                  "; totals from published cells";
  } else {
    out.status = hidden ? "review" : "pass";
    out.summary = hidden ? "acro: fail; suppression applied (" + std::to_string(out.primary) + " primary, " +
                               std::to_string(out.secondary) + " secondary); totals from published cells"
                         : "acro: pass";
  }
  // A count written into a label ("A (n=3)") is not protected by the rules above: a small one
  // fails the table, any other needs a checker's eye (ACRO flags free text the same way).
  if (!labels.reasons.empty()) {
    out.status = labels.small ? "fail" : (out.status == "fail" ? "fail" : "review");
    out.summary += "; " + labels.reasons;
  }
  return out;
}

namespace {

constexpr std::string_view kWithheld = "[REDACTED]";

bool IsMeasureHeader(const std::vector<std::string>& h) {
  static const char* kCols[] = {"measure", "interval_start", "interval_end", "ratio", "numerator", "denominator"};
  if (h.size() < 6) return false;
  for (size_t i = 0; i < 6; ++i)
    if (h[i] != kCols[i]) return false;
  return true;
}

// One count cell: a whole number >= 0, or "[REDACTED]" (withheld).
Status ParseCount(const CsvFile& f, size_t line, const std::string& col, std::string_view text, int64_t* v,
                  uint8_t* withheld) {
  *v = 0;
  *withheld = text == kWithheld;
  if (*withheld) return Status::OK();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return f.Error(line, col, "'" + std::string(text) + "' is not a whole-number count");
  }
  if (*v < 0) return f.Error(line, col, "a count cannot be negative");
  return Status::OK();
}

// A measure row's ratio must be numerator / denominator as published (6 significant digits, as
// `ark run` writes it), and empty or redacted when either count is.
Status CheckRatio(const CsvFile& f, size_t line, std::string_view ratio, int64_t num, int64_t den, bool hidden) {
  const bool ratio_hidden = ratio.empty() || ratio == kWithheld;
  if (hidden || den == 0) {
    if (!ratio_hidden) return f.Error(line, "ratio", "a ratio beside a redacted count (or a zero denominator) is not allowed");
    return Status::OK();
  }
  if (ratio_hidden) return Status::OK();
  double r = 0;
  auto [end, ec] = std::from_chars(ratio.data(), ratio.data() + ratio.size(), r);
  if (ec != std::errc() || end != ratio.data() + ratio.size()) return f.Error(line, "ratio", "'" + std::string(ratio) + "' is not a number");
  const double want = static_cast<double>(num) / static_cast<double>(den);
  if (std::abs(r - want) > 1e-5 * std::max(1.0, std::abs(want))) {
    return f.Error(line, "ratio", "'" + std::string(ratio) + "' does not follow from the numerator and denominator as published");
  }
  return Status::OK();
}

}  // namespace

Result<CountTable> ReadCountCsv(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  const auto& head = f.header();
  if (head.size() < 2) return f.Error(1, "needs a label column and at least one count column");
  CountTable t;
  t.measures = IsMeasureHeader(head);
  if (t.measures) {
    t.col_labels = {"numerator", "denominator"};
  } else {
    t.col_labels.assign(head.begin() + 1, head.end());
  }
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row;
  bool any_withheld = false;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, p.Next(&row));
    if (!more) break;
    if (row.size() == 1 && row[0].empty()) continue;
    if (row.size() != head.size()) return f.Error(p.line(), "expected " + std::to_string(head.size()) + " fields");
    std::vector<int64_t> counts;
    std::vector<uint8_t> withheld;
    auto add = [&](size_t c) -> Status {
      int64_t v = 0;
      uint8_t w = 0;
      ARK_RETURN_IF_ERROR(ParseCount(f, p.line(), head[c], row[c], &v, &w));
      counts.push_back(v);
      withheld.push_back(w);
      any_withheld |= w;
      return Status::OK();
    };
    if (t.measures) {
      std::string label = std::string(row[0]) + " " + std::string(row[1]) + ".." + std::string(row[2]);
      for (size_t c = 6; c < row.size(); ++c) label += (c == 6 ? " " : " / ") + std::string(row[c]);
      t.row_labels.push_back(std::move(label));
      ARK_RETURN_IF_ERROR(add(4));
      ARK_RETURN_IF_ERROR(add(5));
      ARK_RETURN_IF_ERROR(CheckRatio(f, p.line(), row[3], counts[0], counts[1], withheld[0] || withheld[1]));
    } else {
      t.row_labels.emplace_back(row[0]);
      for (size_t c = 1; c < row.size(); ++c) ARK_RETURN_IF_ERROR(add(c));
    }
    t.counts.push_back(std::move(counts));
    t.withheld.push_back(std::move(withheld));
  }
  if (!any_withheld) t.withheld.clear();
  return t;
}

MagnitudeCheck CheckMagnitude(std::vector<double> x, const SdcOptions& o) {
  MagnitudeCheck m;
  std::sort(x.begin(), x.end(), std::greater<>());
  double total = 0;
  for (double v : x) total += v;
  if (static_cast<int64_t>(x.size()) < o.threshold) {
    m.pass = false;
    m.reason = std::to_string(x.size()) + " contributors < threshold " + std::to_string(o.threshold);
    return m;
  }
  double top = 0;
  for (int i = 0; i < o.nk_n && i < static_cast<int>(x.size()); ++i) top += x[i];
  if (total > 0 && top >= o.nk_k * total) {
    m.pass = false;
    m.reason = "nk-dominance: top " + std::to_string(o.nk_n) + " contributions are >= " + std::to_string(o.nk_k) + " of the total";
    return m;
  }
  if (x.size() >= 1 && x[0] > 0) {
    double x2 = x.size() > 1 ? x[1] : 0;
    if ((total - x[0] - x2) / x[0] < o.p_ratio) {
      m.pass = false;
      m.reason = "p-ratio: the rest is less than " + std::to_string(o.p_ratio) + " of the largest contribution";
      return m;
    }
  }
  return m;
}

MagnitudeCheck CheckRegression(int64_t dof, const SdcOptions& o) {
  MagnitudeCheck m;
  if (dof < o.min_residual_dof) {
    m.pass = false;
    m.reason = "residual degrees of freedom " + std::to_string(dof) + " < " + std::to_string(o.min_residual_dof);
  }
  return m;
}

std::optional<int64_t> DifferencingConflict(int64_t n, const std::vector<int64_t>& earlier, int64_t threshold) {
  for (int64_t e : earlier) {
    int64_t d = n > e ? n - e : e - n;
    if (d > 0 && d < threshold) return e;
  }
  return std::nullopt;
}

}  // namespace ark::sdc
