#include <gtest/gtest.h>

#include <filesystem>

#include "privacy/key.h"
#include "privacy/nhs_number.h"

namespace ark {

TEST(NhsNumber, SpecVectors) {
  std::string n;
  EXPECT_EQ(CheckNhsNumber("9434765919", &n), NhsNumberStatus::kValid);
  EXPECT_EQ(n, "9434765919");
  EXPECT_EQ(CheckNhsNumber("943 476 5919", &n), NhsNumberStatus::kValid);
  EXPECT_EQ(CheckNhsNumber("943-476-5919"), NhsNumberStatus::kValid);
  // The trap in SPECS.md: 999 123 4560 is invalid.
  EXPECT_EQ(CheckNhsNumber("9991234560"), NhsNumberStatus::kInvalid);
  EXPECT_EQ(CheckNhsNumber("9434765918"), NhsNumberStatus::kInvalid);
  EXPECT_EQ(CheckNhsNumber(""), NhsNumberStatus::kMissing);
  EXPECT_EQ(CheckNhsNumber("   "), NhsNumberStatus::kMissing);
  EXPECT_EQ(CheckNhsNumber("943476591"), NhsNumberStatus::kInvalid);
  EXPECT_EQ(CheckNhsNumber("94347659190"), NhsNumberStatus::kInvalid);
  EXPECT_EQ(CheckNhsNumber("94347A5919"), NhsNumberStatus::kInvalid);
  EXPECT_EQ(CheckNhsNumber("9990000018"), NhsNumberStatus::kValid);  // HL7 sample in SPECS
}

TEST(NhsNumber, CheckDigitTenIsNeverIssued) {
  // S mod 11 == 1 gives c = 10: find such a prefix and check every last digit is rejected.
  std::string nine = "000000001";  // S = 2 -> c = 9
  for (int i = 0; i < 1000; ++i) {
    std::string p = std::to_string(100000000 + i);
    if (NhsCheckDigit(p) == -1) { nine = p; break; }
  }
  ASSERT_EQ(NhsCheckDigit(nine), -1);
  for (char d = '0'; d <= '9'; ++d) EXPECT_EQ(CheckNhsNumber(nine + d), NhsNumberStatus::kInvalid);
}

TEST(ProgrammeKey, HmacKnownAnswer) {
  auto dir = std::filesystem::temp_directory_path() / ("arkkey" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "k").string();
  {
    std::string text = "ark-programme-key v1\n" + std::string(64, '0') + "\n";
    FILE* f = fopen(path.c_str(), "w");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
  }
  auto k = ProgrammeKey::Load(path);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  // HMAC-SHA256 with a 32-byte zero key over "abc", from `openssl dgst -sha256 -mac HMAC`.
  EXPECT_EQ(ToHex(k->Hmac("abc")), "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351");
  EXPECT_EQ(k->Hmac("9434765919"), k->Hmac("9434765919"));
  EXPECT_NE(k->Hmac("9434765919"), k->Hmac("9434765918"));
  EXPECT_EQ(k->Fingerprint().size(), 16u);
  // Save refuses to overwrite.
  EXPECT_FALSE(k->Save(path).ok());
  auto g = ProgrammeKey::Generate();
  ASSERT_TRUE(g.ok());
  EXPECT_NE(g->Fingerprint(), k->Fingerprint());
  std::filesystem::remove_all(dir);
}

TEST(ProgrammeKey, LoadRejectsBadFiles) {
  auto dir = std::filesystem::temp_directory_path() / ("arkkey2" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "k").string();
  FILE* f = fopen(path.c_str(), "w");
  fputs("ark-programme-key v1\nzz\n", f);
  fclose(f);
  auto k = ProgrammeKey::Load(path);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find(":2:"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace ark
