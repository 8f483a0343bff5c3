// Store::ForEachPersonInRange: decodes blocks one at a time (per thread) and merges each person's
// events with the live delta.
#include <algorithm>

#include "store/parallel.h"
#include "store/store.h"
#include "store/store_state.h"

namespace ark {

Status Store::ForEachPersonInRange(PersonKey begin, PersonKey end, const PersonFn& fn, int threads, Columns columns) const {
  std::shared_ptr<const store::Version> v;
  std::vector<Event> delta;
  uint64_t total_persons;
  {
    std::shared_lock l(mu_);
    v = state_->version;
    total_persons = state_->num_persons();
    for (const Event& e : state_->delta.events) {
      if (e.person >= begin && e.person < end) delta.push_back(e);
    }
  }
  const uint64_t stop = std::min<uint64_t>(end, total_persons);
  if (begin >= stop) return Status::OK();
  std::stable_sort(delta.begin(), delta.end(), [](const Event& a, const Event& b) {
    return a.person != b.person ? a.person < b.person : a.time < b.time;
  });
  auto delta_of = [&](PersonKey key) {
    auto lo = std::lower_bound(delta.begin(), delta.end(), key, [](const Event& e, PersonKey k) { return e.person < k; });
    auto hi = lo;
    while (hi != delta.end() && hi->person == key) ++hi;
    return std::span<const Event>(delta.data() + (lo - delta.begin()), static_cast<size_t>(hi - lo));
  };

  // Work items: the version's blocks overlapping the range, then one item for persons known only
  // from the delta.
  const auto& blocks = v->blocks();
  std::vector<size_t> items;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const uint64_t first = blocks[i].first_person, last = first + blocks[i].num_persons;
    if (last > begin && first < stop) items.push_back(i);
  }
  const bool has_tail = stop > v->num_persons();
  const size_t n_items = items.size() + (has_tail ? 1 : 0);

  std::vector<std::vector<Event>> event_bufs(std::max(1, threads));
  std::vector<std::vector<Person>> person_bufs(std::max(1, threads));
  return store::ParallelFor(n_items, threads, [&](size_t item, int worker) -> Status {
    std::vector<Event> merged;
    auto visit = [&](const Person& p, std::span<const Event> base) -> Status {
      std::span<const Event> added = delta_of(p.key);
      if (added.empty()) return fn(p, base);
      merged.clear();
      std::merge(base.begin(), base.end(), added.begin(), added.end(), std::back_inserter(merged),
                 [](const Event& x, const Event& y) { return x.time < y.time; });
      return fn(p, merged);
    };
    if (item == items.size()) {
      for (uint64_t key = std::max<uint64_t>(begin, v->num_persons()); key < stop; ++key) {
        Person p;
        p.key = static_cast<PersonKey>(key);
        ARK_RETURN_IF_ERROR(visit(p, {}));
      }
      return Status::OK();
    }
    const store::BlockRef& ref = blocks[items[item]];
    ARK_ASSIGN_OR_RETURN(store::BlockView b, v->Block(ref));
    std::vector<Event>& events = event_bufs[worker];  // reused across blocks (no page faults per block)
    std::vector<Person>& persons = person_bufs[worker];
    ARK_RETURN_IF_ERROR(b.DecodeEvents(&events, columns == Columns::kAll));
    ARK_RETURN_IF_ERROR(b.DecodePersons(&persons));
    for (uint32_t j = 0; j < b.num_persons(); ++j) {
      const PersonKey key = ref.first_person + j;
      if (key < begin || key >= stop) continue;
      const uint32_t s = b.PersonStart(j), e = b.PersonStart(j + 1);
      ARK_RETURN_IF_ERROR(visit(persons[j], std::span<const Event>(events.data() + s, e - s)));
    }
    return Status::OK();
  });
}

}  // namespace ark
