#include "report/study_section.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ark {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// A measure whose numerator counts events (admissions per patient) is a rate, shown as a ratio, even
// when every numerator is at most its denominator; a yes/no numerator is a percentage.
TEST(StudySection, CountNumeratorsAreRatesAndYesNoNumeratorsArePercentages) {
  const fs::path dir = fs::temp_directory_path() / ("ark_study_section_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Write(dir / "def.yaml",
        "name: per_patient\n"
        "codelists:\n  adm: {codes: ['21'], system: ADMIMETH}\n"
        "index_date: 2025-01-01\n"
        "population: {alive: true}\n"
        "variables:\n"
        "  any_admission: {exists: adm, from: -365d, to: 0d}\n"
        "  admissions: {count: adm, from: -365d, to: 0d}\n"
        "  alive_now: \"any_admission or not any_admission\"\n"
        "measures:\n"
        "  admitted: {numerator: any_admission, denominator: alive_now, intervals: {every: year, from: 2024-01-01, to: 2024-12-31}}\n"
        "  admissions_per_patient: {numerator: admissions, denominator: alive_now, intervals: {every: year, from: 2024-01-01, to: 2024-12-31}}\n");
  Write(dir / "run" / "manifest.json", R"({"definition": "per_patient", "population": 400, "engine": "native", "purpose": "planning"})");
  const std::string head = "measure,interval_start,interval_end,ratio,numerator,denominator\n";
  Write(dir / "run" / "measures" / "admitted.csv", head + "admitted,2024-01-01,2024-12-31,0.125,50,400\n");
  Write(dir / "run" / "measures" / "admissions_per_patient.csv",
        head + "admissions_per_patient,2024-01-01,2024-12-31,0.1875,75,400\n");
  auto html = StudySectionHtml((dir / "def.yaml").string(), (dir / "run").string());
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_NE(html->find("Admitted, % in each interval"), std::string::npos) << *html;
  EXPECT_NE(html->find(">12.5%<"), std::string::npos);
  EXPECT_NE(html->find("Admissions per patient, ratio in each interval"), std::string::npos);
  EXPECT_NE(html->find(">0.19<"), std::string::npos);
  EXPECT_EQ(html->find("18.8%"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ark
