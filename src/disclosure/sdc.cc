#include "disclosure/sdc.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

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
      Primary(x, o, &out.cells[r][c]);
      out.primary += !out.cells[r][c].published;
    }
  }
  // A list of counts (one column) is protected by recomputing the total from published cells;
  // tables with several columns also get secondary suppression.
  if (o.secondary_suppression && C > 1 && out.primary > 0) out.secondary = Secondary(out.cells);
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
  return out;
}

Result<CountTable> ReadCountCsv(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  if (f.header().size() < 2) return f.Error(1, "needs a label column and at least one count column");
  CountTable t;
  t.col_labels.assign(f.header().begin() + 1, f.header().end());
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, p.Next(&row));
    if (!more) break;
    if (row.size() == 1 && row[0].empty()) continue;
    if (row.size() != f.header().size()) return f.Error(p.line(), "expected " + std::to_string(f.header().size()) + " fields");
    t.row_labels.emplace_back(row[0]);
    std::vector<int64_t> counts;
    for (size_t c = 1; c < row.size(); ++c) {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(row[c].data(), row[c].data() + row[c].size(), v);
      if (ec != std::errc() || end != row[c].data() + row[c].size()) {
        return f.Error(p.line(), f.header()[c], "'" + std::string(row[c]) + "' is not a whole-number count");
      }
      if (v < 0) return f.Error(p.line(), f.header()[c], "a count cannot be negative");
      counts.push_back(v);
    }
    t.counts.push_back(std::move(counts));
  }
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
