// AKI stage from serum creatinine: the NHS England AKI algorithm (2014), exactly as SPECS.md
// "Clinical rules for live indicators" states it.
//   C1 = the new result; RV1 = lowest result 0–7 days before C1; RV2 = median of results 8–365
//   days before; ratio = C1/RV1 or C1/RV2, the higher of the two available; ratio ≥ 3 → stage 3,
//   ≥ 2 → stage 2, ≥ 1.5 → stage 1; stage 3 also when C1 > 354 µmol/L and ratio ≥ 1.5; when no
//   ratio ≥ 1.5 and a result within 48 h before is more than 26 µmol/L lower → stage 1 (the "D"
//   rule, configurable); no earlier result within 365 days → stage 0 (no stage).
// "0–7 days before" means 0 ≤ C1.time − t ≤ 7×86400 s; "8–365 days" means 7×86400 < C1.time − t
// ≤ 365×86400 s. Results after C1 and non-positive values are ignored. Pure and thread-safe.
#pragma once

#include <span>
#include <string_view>

#include "core/time.h"

namespace ark::clinical {

struct Creatinine {
  Seconds time;
  double umol_per_l;
};

struct AkiOptions {
  bool rise_26_in_48h = true;   // the ">26 µmol/L within 48 h" rule gives stage 1
  double stage3_absolute = 354; // µmol/L; C1 above this with ratio ≥ 1.5 → stage 3
};

// Stage 0..3 for a new result given earlier results (any order; may include C1 itself, which is
// ignored when it has the same time and value).
int AkiStage(std::span<const Creatinine> history, const Creatinine& result,
             const AkiOptions& opts = {});

// LOINC / local codes Ark treats as serum creatinine in µmol/L ("2160-0" is mg/dL: values < 30
// are converted ×88.42). Returns NaN when `code` is not a creatinine code.
double CreatinineUmolPerL(std::string_view system, std::string_view code, double value,
                          std::string_view unit);

}  // namespace ark::clinical
