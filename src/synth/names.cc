#include "synth/names.h"

#include <algorithm>
#include <cstring>

namespace ark::synth {
namespace {

struct W {
  const char* name;
  double weight;
};

// Given names: people born before 1975 ("older") and from 1975 ("younger"); weights are rough
// relative frequencies within the list.
const W kMaleOlder[] = {
    {"John", 10}, {"David", 9}, {"Michael", 7}, {"Peter", 6}, {"Robert", 5}, {"Anthony", 4},
    {"Brian", 4}, {"Alan", 4}, {"Kenneth", 3}, {"Keith", 3}, {"Derek", 2.5}, {"Colin", 2.5},
    {"Trevor", 2}, {"Graham", 2.5}, {"Stephen", 5}, {"Paul", 5}, {"Andrew", 4.5}, {"Ian", 3.5},
    {"Gary", 3}, {"Kevin", 3}, {"Christopher", 4}, {"Richard", 4}, {"Steven", 3}, {"Neil", 2},
    {"Darren", 1.5}, {"Craig", 1}, {"Jason", 1}, {"Shaun", 1}, {"William", 4}, {"James", 4},
    {"Thomas", 3}, {"George", 3}, {"Raymond", 2}, {"Ronald", 2}, {"Dennis", 1.5}, {"Roy", 1.5},
    {"Geoffrey", 1.5}, {"Malcolm", 1.5}, {"Gordon", 1}, {"Norman", 1.5}, {"Stanley", 1},
    {"Albert", 1}, {"Frederick", 1}, {"Harold", 1.5}, {"Arthur", 1}, {"Ernest", 1}, {"Leonard", 1},
    {"Philip", 2.5}, {"Terence", 1.5}, {"Barry", 2}, {"Martin", 3}, {"Nigel", 1.5}, {"Simon", 2},
    {"Timothy", 1.5}, {"Jonathan", 1.5}, {"Edward", 1.5}, {"Douglas", 1}, {"Gerald", 1},
    {"Clive", 1}, {"Carl", 1}, {"Nicholas", 1.5}, {"Joseph", 1}, {"Samuel", 0.5},
};
const W kMaleYounger[] = {
    {"Oliver", 5}, {"Harry", 5}, {"George", 4}, {"Noah", 3}, {"Leo", 3}, {"Oscar", 3},
    {"Charlie", 4}, {"Jacob", 4}, {"Alfie", 3}, {"Freddie", 3}, {"Arthur", 2}, {"Theo", 2},
    {"Archie", 3}, {"Henry", 2}, {"Thomas", 5}, {"Joshua", 5}, {"James", 6}, {"William", 4},
    {"Samuel", 4}, {"Daniel", 6}, {"Joseph", 4}, {"Ethan", 3}, {"Lucas", 2}, {"Isaac", 2},
    {"Dylan", 2}, {"Logan", 2}, {"Finley", 2}, {"Alexander", 3}, {"Adam", 4}, {"Benjamin", 3},
    {"Edward", 2}, {"Ryan", 4}, {"Callum", 3}, {"Connor", 3}, {"Liam", 3}, {"Luke", 4},
    {"Kyle", 2}, {"Reece", 2}, {"Lewis", 3}, {"Jordan", 3}, {"Bradley", 2}, {"Elliot", 1.5},
    {"Nathan", 3}, {"Jake", 2}, {"Matthew", 5}, {"Christopher", 3}, {"Michael", 3}, {"David", 3},
};
const W kFemaleOlder[] = {
    {"Margaret", 8}, {"Patricia", 5}, {"Susan", 6}, {"Linda", 4}, {"Christine", 4},
    {"Elizabeth", 4}, {"Barbara", 3}, {"Janet", 3.5}, {"Anne", 3}, {"Valerie", 2}, {"Sandra", 3},
    {"Pauline", 2}, {"Sheila", 2}, {"Brenda", 2}, {"Doreen", 1.5}, {"Joan", 2.5}, {"Dorothy", 2},
    {"Irene", 1.5}, {"Maureen", 2}, {"Kathleen", 2}, {"Eileen", 1.5}, {"Julie", 3.5}, {"Karen", 3.5},
    {"Tracey", 2.5}, {"Deborah", 2.5}, {"Joanne", 2}, {"Nicola", 2}, {"Claire", 2}, {"Helen", 3},
    {"Sarah", 3}, {"Rachel", 1.5}, {"Lisa", 2}, {"Michelle", 2}, {"Jennifer", 1.5}, {"Amanda", 2},
    {"Louise", 1.5}, {"Gillian", 2}, {"Jacqueline", 2}, {"Angela", 2.5}, {"Wendy", 1.5},
    {"Elaine", 1.5}, {"Lynne", 1}, {"Josephine", 1}, {"Marion", 1}, {"Shirley", 1.5},
    {"Hilda", 0.5}, {"Gladys", 0.5}, {"Edna", 0.5}, {"Elsie", 0.5}, {"Mavis", 0.5}, {"Ethel", 0.5},
    {"Winifred", 0.4}, {"Vera", 0.5}, {"Rita", 0.7}, {"Audrey", 0.8}, {"Catherine", 1.5},
    {"Katherine", 1}, {"Alison", 1.5}, {"Diane", 1.5}, {"Frances", 1}, {"Pamela", 1.5},
};
const W kFemaleYounger[] = {
    {"Olivia", 5}, {"Amelia", 5}, {"Isla", 3}, {"Ava", 3}, {"Mia", 3}, {"Isabella", 3},
    {"Sophia", 2}, {"Emily", 6}, {"Ella", 3}, {"Freya", 3}, {"Evie", 3}, {"Florence", 2},
    {"Charlotte", 5}, {"Sienna", 1.5}, {"Phoebe", 2}, {"Matilda", 1.5}, {"Elsie", 1.5},
    {"Isabelle", 2}, {"Evelyn", 1.5}, {"Sofia", 1.5}, {"Chloe", 5}, {"Jessica", 6}, {"Lucy", 5},
    {"Megan", 4}, {"Hannah", 5}, {"Lauren", 4}, {"Bethany", 3}, {"Abigail", 2}, {"Eleanor", 2.5},
    {"Millie", 2}, {"Niamh", 1.5}, {"Erin", 2}, {"Caitlin", 2}, {"Zara", 1}, {"Maisie", 1.5},
    {"Imogen", 1.5}, {"Layla", 1.5}, {"Eva", 2}, {"Sophie", 5}, {"Rebecca", 4}, {"Samantha", 3},
    {"Victoria", 3}, {"Laura", 4}, {"Gemma", 3}, {"Emma", 4}, {"Sarah", 3}, {"Amy", 4},
    {"Natalie", 2}, {"Danielle", 2}, {"Kirsty", 1.5}, {"Alexandra", 1.5},
};
const W kMaleSouthAsian[] = {
    {"Mohammed", 8}, {"Muhammad", 5}, {"Ahmed", 2}, {"Imran", 3}, {"Tariq", 2}, {"Asif", 2},
    {"Zain", 2}, {"Ibrahim", 2}, {"Yusuf", 2}, {"Ayaan", 1.5}, {"Hamza", 2}, {"Bilal", 2},
    {"Omar", 2}, {"Arjun", 1}, {"Rajesh", 1}, {"Sanjay", 1}, {"Harpreet", 1}, {"Gurpreet", 1},
    {"Adnan", 1.5}, {"Shahid", 1.5}, {"Khalid", 1.5}, {"Nadeem", 1},
};
const W kFemaleSouthAsian[] = {
    {"Fatima", 4}, {"Aisha", 4}, {"Maryam", 3}, {"Zara", 2}, {"Nazia", 2}, {"Shazia", 2},
    {"Samina", 2}, {"Ayesha", 3}, {"Hafsa", 2}, {"Khadija", 2}, {"Priya", 1.5}, {"Sunita", 1},
    {"Anjali", 1}, {"Simran", 1}, {"Rubina", 1.5}, {"Nasreen", 1.5}, {"Parveen", 1.5},
    {"Sadia", 1.5},
};
const W kFamilyBritish[] = {
    {"Smith", 100}, {"Jones", 75}, {"Williams", 55}, {"Taylor", 50}, {"Davies", 45},
    {"Evans", 33}, {"Wilson", 32}, {"Thomas", 31}, {"Johnson", 30}, {"Roberts", 29},
    {"Robinson", 28}, {"Thompson", 28}, {"Wright", 27}, {"Edwards", 26}, {"Hughes", 26},
    {"Lewis", 25}, {"Harris", 25}, {"Clarke", 24}, {"Jackson", 24}, {"Martin", 22},
    {"Morris", 21}, {"Watson", 21}, {"Harrison", 21}, {"Morgan", 20}, {"Allen", 20},
    {"Mitchell", 20}, {"Anderson", 19}, {"Clark", 19}, {"Scott", 18}, {"Parker", 17},
    {"Bennett", 17}, {"Kelly", 17}, {"Murphy", 16}, {"Lloyd", 16}, {"Chapman", 15},
    {"Stevens", 15}, {"Ellis", 15}, {"Richardson", 15}, {"Russell", 14}, {"Wilkinson", 14},
    {"Graham", 13}, {"Dixon", 13}, {"Holmes", 13}, {"Richards", 12}, {"Atkinson", 12},
    {"Pearson", 12}, {"Hudson", 11}, {"Gibson", 11}, {"Dawson", 10}, {"Lawrence", 10},
    {"Kennedy", 10}, {"Reid", 10}, {"Harvey", 10}, {"Saunders", 10}, {"Hamilton", 10},
    {"Jenkins", 10}, {"Griffiths", 10}, {"Owen", 10}, {"Spencer", 10}, {"Bradley", 9},
    {"Walsh", 9}, {"Sutton", 9}, {"Howard", 9}, {"Wallace", 8}, {"Pearce", 8}, {"Holland", 8},
    {"Doyle", 8}, {"Nicholson", 8}, {"Hewitt", 7}, {"Marsden", 7}, {"Sykes", 7}, {"Haigh", 6},
    {"Ackroyd", 5}, {"Priestley", 5}, {"Nowak", 5}, {"Kowalczyk", 3}, {"O'Brien", 7},
    {"O'Connor", 6}, {"McDonald", 6}, {"Campbell", 8}, {"Stewart", 8}, {"Fraser", 5},
    {"Whitaker", 6}, {"Greenwood", 6}, {"Illingworth", 4}, {"Holroyd", 4}, {"Hirst", 5},
    {"Crowther", 5}, {"Walton", 6}, {"Hargreaves", 5}, {"Sutcliffe", 5}, {"Barraclough", 3},
    {"Appleyard", 3}, {"Kaczmarek", 2}, {"Lambert", 6}, {"Kershaw", 5},
};
const W kFamilySouthAsian[] = {
    {"Khan", 50}, {"Hussain", 45}, {"Ahmed", 35}, {"Ali", 35}, {"Akhtar", 20}, {"Mahmood", 20},
    {"Iqbal", 15}, {"Rahman", 12}, {"Shah", 12}, {"Patel", 35}, {"Sharma", 8}, {"Aslam", 8},
    {"Bashir", 8}, {"Rashid", 8}, {"Qureshi", 6}, {"Chaudhry", 6}, {"Malik", 10},
};
const W kFamilySouthAsianFemale[] = {{"Begum", 6}, {"Kaur", 3}, {"Bibi", 2}};
const W kFamilySouthAsianMale[] = {{"Singh", 1}};

struct Nick {
  const char* formal;
  const char* informal[3];
};
// Informal forms that are not common English words (so no Bob, Bill, Will, Sue, Pat).
const Nick kNicks[] = {
    {"Robert", {"Robbie", "Bobby", "Bert"}}, {"William", {"Billy", "Liam", nullptr}},
    {"Elizabeth", {"Liz", "Beth", "Lizzie"}}, {"Margaret", {"Maggie", "Peggy", "Maggy"}},
    {"James", {"Jim", "Jimmy", "Jamie"}}, {"Katherine", {"Kate", "Katie", "Kathy"}},
    {"Catherine", {"Cathy", "Kate", "Katie"}}, {"Richard", {"Ricky", "Richie", nullptr}},
    {"Anthony", {"Tony", nullptr, nullptr}}, {"Michael", {"Mikey", "Mickey", nullptr}},
    {"Christopher", {"Chris", nullptr, nullptr}}, {"Thomas", {"Tommy", nullptr, nullptr}},
    {"Edward", {"Eddie", "Ned", nullptr}}, {"Daniel", {"Danny", nullptr, nullptr}},
    {"David", {"Dave", "Davey", nullptr}}, {"Matthew", {"Matty", nullptr, nullptr}},
    {"Stephen", {"Steve", "Stevie", nullptr}}, {"Steven", {"Steve", "Stevie", nullptr}},
    {"Jonathan", {"Jon", "Jonny", nullptr}}, {"Samuel", {"Sam", "Sammy", nullptr}},
    {"Benjamin", {"Ben", "Benji", nullptr}}, {"Alexander", {"Alex", nullptr, nullptr}},
    {"Joseph", {"Joey", "Joe", nullptr}}, {"Patricia", {"Trish", "Tricia", nullptr}},
    {"Susan", {"Susie", "Suzy", nullptr}}, {"Deborah", {"Debbie", "Debs", nullptr}},
    {"Jennifer", {"Jenny", "Jen", nullptr}}, {"Rebecca", {"Becky", "Becca", nullptr}},
    {"Victoria", {"Vicky", "Vikki", nullptr}}, {"Kenneth", {"Kenny", nullptr, nullptr}},
    {"Peter", {"Pete", nullptr, nullptr}}, {"Andrew", {"Andy", nullptr, nullptr}},
    {"Nicholas", {"Nicky", "Nico", nullptr}}, {"Charlotte", {"Charlie", "Lottie", nullptr}},
    {"Alexandra", {"Alex", "Lexi", nullptr}}, {"Christine", {"Chrissie", "Tina", nullptr}},
    {"Jacqueline", {"Jackie", nullptr, nullptr}}, {"Samantha", {"Sam", "Sammy", nullptr}},
    {"Timothy", {"Tim", "Timmy", nullptr}}, {"Frederick", {"Freddie", "Fred", nullptr}},
    {"Albert", {"Bert", "Albie", nullptr}}, {"Ronald", {"Ronnie", nullptr, nullptr}},
    {"Leonard", {"Len", "Lenny", nullptr}}, {"Gerald", {"Gerry", nullptr, nullptr}},
    {"Terence", {"Terry", nullptr, nullptr}}, {"Philip", {"Phil", nullptr, nullptr}},
    {"Valerie", {"Val", nullptr, nullptr}}, {"Pamela", {"Pam", nullptr, nullptr}},
    {"Gillian", {"Gilly", "Jill", nullptr}}, {"Angela", {"Angie", nullptr, nullptr}},
    {"Josephine", {"Josie", nullptr, nullptr}}, {"Abigail", {"Abbie", "Abby", nullptr}},
    {"Isabella", {"Bella", "Izzy", nullptr}}, {"Olivia", {"Livvy", "Liv", nullptr}},
    {"Amelia", {"Millie", "Amy", nullptr}}, {"Eleanor", {"Ellie", "Nell", nullptr}},
    {"Florence", {"Flo", "Florrie", nullptr}}, {"Frances", {"Fran", "Frankie", nullptr}},
    {"Mohammed", {"Mohd", "Muhammad", nullptr}}, {"Muhammad", {"Mohd", "Mohammed", nullptr}},
    {"Bethany", {"Beth", nullptr, nullptr}}, {"Danielle", {"Dani", nullptr, nullptr}},
    {"Oliver", {"Ollie", nullptr, nullptr}}, {"Joshua", {"Josh", nullptr, nullptr}},
    {"Nathan", {"Nate", nullptr, nullptr}}, {"Theodore", {"Theo", nullptr, nullptr}},
};

struct List {
  std::vector<NameId> ids;
  std::vector<double> weights;
  Categorical dist;
};

struct Tables {
  std::vector<std::string_view> given, family;
  List male_older, male_younger, female_older, female_younger, male_sa, female_sa;
  List family_british, family_sa, family_sa_female, family_sa_male;

  template <size_t N>
  static void Add(std::vector<std::string_view>* names, const W (&src)[N], List* list) {
    for (const W& w : src) {
      auto it = std::find(names->begin(), names->end(), std::string_view(w.name));
      NameId id = static_cast<NameId>(it - names->begin());
      if (it == names->end()) names->push_back(w.name);
      list->ids.push_back(id);
      list->weights.push_back(w.weight);
    }
    list->dist = Categorical(list->weights);
  }

  Tables() {
    Add(&given, kMaleOlder, &male_older);
    Add(&given, kMaleYounger, &male_younger);
    Add(&given, kFemaleOlder, &female_older);
    Add(&given, kFemaleYounger, &female_younger);
    Add(&given, kMaleSouthAsian, &male_sa);
    Add(&given, kFemaleSouthAsian, &female_sa);
    Add(&family, kFamilyBritish, &family_british);
    Add(&family, kFamilySouthAsian, &family_sa);
    Add(&family, kFamilySouthAsianFemale, &family_sa_female);
    Add(&family, kFamilySouthAsianMale, &family_sa_male);
  }
};

const Tables& T() {
  static const Tables tables;
  return tables;
}

NameId Draw(const List& list, Rng& rng) { return list.ids[list.dist.Draw(rng)]; }

const List& GivenList(uint8_t tradition, char sex, int birth_year) {
  const Tables& t = T();
  if (tradition == 1) return sex == 'M' ? t.male_sa : t.female_sa;
  if (sex == 'M') return birth_year < 1975 ? t.male_older : t.male_younger;
  return birth_year < 1975 ? t.female_older : t.female_younger;
}

}  // namespace

NameId DrawFamilyName(uint8_t tradition, char sex, Rng& rng) {
  const Tables& t = T();
  if (tradition == 0) return Draw(t.family_british, rng);
  if (sex == 'F' && rng.Chance(0.2)) return Draw(t.family_sa_female, rng);
  if (sex == 'M' && rng.Chance(0.04)) return Draw(t.family_sa_male, rng);
  return Draw(t.family_sa, rng);
}

PersonName DrawName(char sex, int birth_year, Rng& rng) {
  PersonName n;
  n.tradition = rng.Chance(0.12) ? 1 : 0;
  const List& list = GivenList(n.tradition, sex, birth_year);
  n.given = Draw(list, rng);
  if (rng.Chance(0.55)) {
    NameId m = Draw(list, rng);
    if (m != n.given) n.middle = m;
  }
  n.family = DrawFamilyName(n.tradition, sex, rng);
  return n;
}

std::string_view GivenName(NameId id) { return T().given[id]; }
std::string_view FamilyName(NameId id) { return T().family[id]; }

std::string_view Nickname(std::string_view given, Rng& rng) {
  for (const Nick& n : kNicks) {
    if (given != n.formal) continue;
    int count = 0;
    while (count < 3 && n.informal[count] != nullptr) ++count;
    return n.informal[rng.Below(static_cast<uint32_t>(count))];
  }
  return {};
}

std::string Typo(std::string_view name, Rng& rng) {
  std::string s(name);
  if (s.size() < 3) return s;
  static const char* kRows[] = {"qwertyuiop", "asdfghjkl", "zxcvbnm"};
  size_t lo = rng.Chance(0.85) ? 1 : 0;
  size_t pos = lo + rng.Below(static_cast<uint32_t>(s.size() - lo));
  char c = s[pos];
  bool upper = c >= 'A' && c <= 'Z';
  char lower = upper ? static_cast<char>(c - 'A' + 'a') : c;
  switch (rng.Below(4)) {
    case 0: {  // neighbouring key
      for (const char* row : kRows) {
        const char* at = std::strchr(row, lower);
        if (at == nullptr || lower == '\0') continue;
        size_t i = static_cast<size_t>(at - row), n = std::strlen(row);
        size_t j = i == 0 ? 1 : (i + 1 == n ? i - 1 : (rng.Chance(0.5) ? i - 1 : i + 1));
        char r = row[j];
        s[pos] = upper ? static_cast<char>(r - 'a' + 'A') : r;
        return s;
      }
      return s;
    }
    case 1:  // dropped letter
      s.erase(pos, 1);
      return s;
    case 2:  // doubled letter
      s.insert(pos, 1, lower);
      return s;
    default: {  // transposed neighbours (never moves the first letter into lower case)
      size_t p = std::max<size_t>(pos, 1);
      if (p + 1 >= s.size()) p = s.size() - 2;
      if (p == 0) return s;
      std::swap(s[p], s[p + 1]);
      return s;
    }
  }
}

std::vector<std::string_view> AllNames() {
  std::vector<std::string_view> all = T().given;
  all.insert(all.end(), T().family.begin(), T().family.end());
  for (const Nick& n : kNicks)
    for (const char* s : n.informal)
      if (s != nullptr) all.push_back(s);
  return all;
}

}  // namespace ark::synth
