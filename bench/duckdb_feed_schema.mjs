// The column types the DuckDB peer gives the pseudonymised feeds (`ark pseudonymise` output, see
// docs/feed-specs.md "Pseudonymised layout") when it loads every file of every feed into typed
// tables (`duckdb_bench.mjs load-feeds`): what a data engineer would declare for these files.
//
// Keyed by column name (the same name means the same thing in every feed). Dates are DATE, times
// TIMESTAMP (the feeds write ISO dates and 'YYYY-MM-DD HH:MM' times, which DuckDB's CSV reader
// parses as such), numbers numeric types, codes and identifiers-as-text VARCHAR, the NHS
// pseudonyms (64 hex digits) and the PPRL encodings `clk` and `pprl` (base64) VARCHAR, as they
// are stored. A column in a feed file that is not listed here fails the load, naming the file
// and the column: add it here with its type.
//
// An entry is a DuckDB type, or {read, select}: read the column as `read` and store
// `select(quoted column)` (birth_year_month is 'YYYY-MM', stored as the DATE of the month's 1st).
export const COLUMN_TYPES = {
  // records.csv (every feed)
  record: 'UINTEGER',
  nhs_pseudonym: 'VARCHAR',
  nhs_status: 'VARCHAR',
  birth_year_month: { read: 'VARCHAR', type: 'DATE', select: (c) => `CAST(strptime(${c}, '%Y-%m') AS DATE)` },
  sex: 'VARCHAR',
  lsoa: 'VARCHAR',
  imd_decile: 'UTINYINT',
  practice: 'VARCHAR',
  clk: 'VARCHAR',
  pprl: 'VARCHAR',
  // gp
  registered_from: 'DATE',
  registered_to: 'DATE',
  practice_code: 'VARCHAR',
  event_date: 'DATE',
  snomed_code: 'VARCHAR',
  value: 'DOUBLE',
  unit: 'VARCHAR',
  // acute
  arrival: 'TIMESTAMP',
  departure: 'TIMESTAMP',
  disposal: 'VARCHAR',
  attendance_id: 'UBIGINT',
  complaint_snomed: 'VARCHAR',
  admitted: 'TIMESTAMP',
  discharged: 'TIMESTAMP',
  admission_method: 'VARCHAR',
  spell_id: 'UBIGINT',
  primary_icd10: 'VARCHAR',
  secondary_icd10: 'VARCHAR',
  opcs4: 'VARCHAR',
  discharge_destination: 'VARCHAR',
  collected: 'TIMESTAMP',
  loinc_code: 'VARCHAR',
  result: 'DOUBLE',
  units: 'VARCHAR',
  // community
  contact_date: 'DATE',
  service: 'VARCHAR',
  // social_care
  assessment_date: 'DATE',
  assessment_type: 'VARCHAR',
  start_date: 'DATE',
  end_date: 'DATE',
  service_type: 'VARCHAR',
  weekly_hours: 'DOUBLE',
  // deaths
  date_of_death: 'DATE',
  underlying_cause_icd10: 'VARCHAR',
};

// Files whose rows are not events: the identity rows and the opt-out list. Every other file of a
// feed is an event file ("event rows" in the bench are the rows of those files; Ark's own event
// count is larger, since one row can give several events: split codes, several mappings per file,
// and the registrations and deaths that the records files carry).
export const NON_EVENT_FILES = new Set(['records.csv', 'optouts.csv']);
