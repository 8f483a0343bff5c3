#include "network/dataset.h"

#include <algorithm>

#include "core/csv.h"
#include "study/run.h"

namespace ark::net {

Result<DatasetColumns> EvaluateColumns(const std::string& ark_dir, const std::string& definition_path, study::Purpose purpose,
                                       const std::vector<std::string>& names, const study::Feeds& feeds) {
  ARK_ASSIGN_OR_RETURN(study::Definition def, study::ParseDefinitionFile(definition_path));
  ARK_ASSIGN_OR_RETURN(study::EngineResult r, study::Evaluate(def, ark_dir, study::Engine::kNative, purpose, "", 2, feeds));
  std::vector<std::string> header;
  {
    const std::string line = study::DatasetHeader(def);  // the parser keeps a view of it
    CsvParser hp(line);
    std::vector<std::string_view> h;
    ARK_RETURN_IF_ERROR(hp.Next(&h).status());
    header.assign(h.begin(), h.end());
  }
  DatasetColumns out;
  out.names = names;
  std::vector<size_t> at;
  for (const auto& n : names) {
    auto h = std::find(header.begin(), header.end(), n);
    auto v = std::find_if(def.variables.begin(), def.variables.end(), [&](const auto& var) { return var.name == n; });
    if (h == header.end() || v == def.variables.end()) return Status::InvalidArgument(definition_path + ": no variable '" + n + "'");
    at.push_back(static_cast<size_t>(h - header.begin()));
    out.types.push_back(v->type);
  }
  std::vector<std::string_view> f;
  auto add = [&](std::string_view text) -> Status {
    CsvParser p(text);
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool more, p.Next(&f));
      if (!more) return Status::OK();
      if (f.size() != header.size()) continue;
      std::vector<std::string> row;
      row.reserve(at.size());
      for (size_t k : at) row.emplace_back(f[k]);
      out.rows.push_back(std::move(row));
      out.persons.push_back(static_cast<PersonKey>(std::stoull(std::string(f[0]))));
    }
  };
  for (const auto& row : r.rows) ARK_RETURN_IF_ERROR(add(row.line + "\n"));
  for (const auto& part : r.text_parts) ARK_RETURN_IF_ERROR(add(part));
  std::sort(out.persons.begin(), out.persons.end());
  out.persons.erase(std::unique(out.persons.begin(), out.persons.end()), out.persons.end());
  return out;
}

}  // namespace ark::net
