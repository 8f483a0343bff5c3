// The linkage section shows the clustering figures a data user relies on.
#include "report/region_report.h"

#include <gtest/gtest.h>

namespace ark {
namespace {

TEST(RegionReportLinkage, ShowsClusterSizesLargestHardConflictsAndFalseMergeRate) {
  PprlStats p;
  p.clusters = 1230;
  p.refused_merges = 43;
  p.clustering.bound = 0.5;
  p.clustering.largest = 7;
  p.clustering.sizes = {1000, 200, 30};  // 1, 2-3, 4-7
  p.clustering.merges = 480;
  p.clustering.incoherent_merges = 12;
  p.clustering.expected_false_merges = 2.4;
  p.clustering.two_group_clusters = 0;
  nlohmann::ordered_json j;
  const std::string h = PprlClusteringHtml(p, &j);
  EXPECT_NE(h.find("The largest group holds <b>7</b> records"), std::string::npos) << h;
  EXPECT_NE(h.find("<b>0</b> groups hold two different valid NHS numbers"), std::string::npos);
  EXPECT_NE(h.find("<b>0.50%</b> of the 480 merges"), std::string::npos);
  EXPECT_NE(h.find("<td>4-7</td><td>30</td>"), std::string::npos);
  EXPECT_NE(h.find("<td>2-3</td><td>200</td>"), std::string::npos);
  const auto& c = j["pprl_clustering"];
  EXPECT_EQ(c["largest_cluster"], 7);
  EXPECT_EQ(c["clusters_with_two_valid_nhs_numbers"], 0);
  EXPECT_EQ(c["cluster_sizes"]["1"], 1000);
  EXPECT_EQ(c["merges_refused_two_valid_nhs_numbers"], 45);  // rounded to 5
  EXPECT_EQ(c["merges_refused_incoherent"], 10);
  EXPECT_NEAR(c["expected_false_merge_rate"].get<double>(), 0.005, 1e-12);
}

}  // namespace
}  // namespace ark
