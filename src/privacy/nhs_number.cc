#include "privacy/nhs_number.h"

namespace ark {

int NhsCheckDigit(std::string_view d) {
  if (d.size() < 9) return -1;
  int s = 0;
  for (int i = 0; i < 9; ++i) {
    if (d[i] < '0' || d[i] > '9') return -1;
    s += (d[i] - '0') * (10 - i);
  }
  int c = 11 - s % 11;
  if (c == 11) c = 0;
  return c == 10 ? -1 : c;
}

NhsNumberStatus CheckNhsNumber(std::string_view raw, std::string* normalised) {
  char digits[10];
  int n = 0;
  bool any = false;
  for (char ch : raw) {
    if (ch == ' ' || ch == '-' || ch == '\t') continue;
    any = true;
    if (ch < '0' || ch > '9' || n == 10) return NhsNumberStatus::kInvalid;
    digits[n++] = ch;
  }
  if (!any) return NhsNumberStatus::kMissing;
  if (n != 10) return NhsNumberStatus::kInvalid;
  const int c = NhsCheckDigit(std::string_view(digits, 9));
  if (c < 0 || c != digits[9] - '0') return NhsNumberStatus::kInvalid;
  if (normalised) normalised->assign(digits, 10);
  return NhsNumberStatus::kValid;
}

}  // namespace ark
