#include "governance/proof_file.h"

#include "core/fs.h"
#include "governance/encoding.h"
#include "governance/merkle.h"

namespace ark::gov {
namespace {

Result<uint64_t> Size(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<int64_t>() < 0) {
    return Status::InvalidArgument(std::string("'") + key + "' must be a non-negative integer");
  }
  return j[key].get<uint64_t>();
}

Result<std::string> Bytes(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return Status::InvalidArgument(std::string("'") + key + "' must be a base64 string");
  auto b = Base64Decode(j[key].get<std::string>());
  if (!b) return Status::InvalidArgument(std::string("'") + key + "' is not valid base64");
  return *b;
}

Result<std::vector<std::string>> Proof(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.contains("proof") || j["proof"].is_null()) return out;
  if (!j["proof"].is_array()) return Status::InvalidArgument("'proof' must be an array of base64 hashes");
  for (const auto& e : j["proof"]) {
    if (!e.is_string()) return Status::InvalidArgument("'proof' must be an array of base64 hashes");
    auto b = Base64Decode(e.get<std::string>());
    if (!b) return Status::InvalidArgument("a proof hash is not valid base64");
    out.push_back(std::move(*b));
  }
  return out;
}

}  // namespace

Status VerifyProofJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a proof must be a JSON object");
  ARK_ASSIGN_OR_RETURN(auto proof, Proof(j));
  if (j.contains("leafIdx")) {
    ARK_ASSIGN_OR_RETURN(uint64_t idx, Size(j, "leafIdx"));
    ARK_ASSIGN_OR_RETURN(uint64_t size, Size(j, "treeSize"));
    ARK_ASSIGN_OR_RETURN(std::string root, Bytes(j, "root"));
    ARK_ASSIGN_OR_RETURN(std::string leaf, Bytes(j, "leafHash"));
    return merkle::VerifyInclusion(idx, size, leaf, proof, root);
  }
  if (j.contains("size1")) {
    ARK_ASSIGN_OR_RETURN(uint64_t s1, Size(j, "size1"));
    ARK_ASSIGN_OR_RETURN(uint64_t s2, Size(j, "size2"));
    ARK_ASSIGN_OR_RETURN(std::string r1, Bytes(j, "root1"));
    ARK_ASSIGN_OR_RETURN(std::string r2, Bytes(j, "root2"));
    return merkle::VerifyConsistency(s1, s2, proof, r1, r2);
  }
  return Status::InvalidArgument("not a proof: expected leafIdx/treeSize/... or size1/size2/...");
}

Status VerifyProofFile(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  return VerifyProofJson(j).WithContext(path);
}

}  // namespace ark::gov
