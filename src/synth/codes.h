// The clinical code lists the synthetic region uses: SNOMED CT for GP events and A&E complaints,
// ICD-10 for diagnoses and causes of death, OPCS-4 for procedures, LOINC for hospital labs, plus
// the NHS Data Dictionary codes of the acute layouts. Records hold the small enum values below;
// the writer turns them into code strings. docs/synthetic-region.md lists the same table.
#pragma once

#include <cstdint>

namespace ark::synth {

// SNOMED CT concepts recorded in gp/events.csv.
enum class Gp : uint8_t {
  kConsultation, kTelephone, kSystolic, kDiastolic, kBmi, kHba1c, kCreatinine, kCopd,
  kCopdExacerbation, kAsthma, kType2Diabetes, kHypertension, kFall, kFrailtyMild,
  kFrailtyModerate, kFrailtySevere, kCkd3, kAki, kSepsis, kHipFracture, kMedicationReview,
  kSmoker, kExSmoker, kNeverSmoked, kMetformin, kAmlodipine, kAspirin, kSalbutamol, kCount
};
struct GpCodeInfo {
  const char* snomed;
  const char* unit;  // "" when the event has no value
  int decimals;      // decimals printed for the value
  const char* term;
};
const GpCodeInfo& Info(Gp code);

// ICD-10 codes (primary/secondary diagnoses, underlying cause of death).
enum class Icd : uint8_t {
  kJ441, kJ440, kJ449, kJ189, kJ22, kJ459, kN179, kA419, kW19, kS720, kS721, kS525, kS060,
  kR296, kE119, kI219, kI509, kI639, kI10, kI48, kN390, kR074, kR104, kR55, kE86, kK358,
  kF059, kL031, kK922, kG409, kH259, kM169, kM179, kK409, kK802, kK573, kD126, kN40, kK219,
  kN920, kI251, kC189, kN183, kF03, kC349, kC509, kC61, kG309, kX59, kP073, kR31, kR51, kM545, kCount
};
struct IcdInfo {
  const char* code;
  const char* term;
};
const IcdInfo& Info(Icd code);

// OPCS-4 procedures.
enum class Opcs : uint8_t {
  kW461, kW371, kW381, kW401, kW191, kC712, kC751, kH229, kG451, kT201, kJ183, kM459, kQ074,
  kK401, kK751, kE851, kU051, kCount
};
struct OpcsInfo {
  const char* code;
  const char* term;
};
const OpcsInfo& Info(Opcs code);

// LOINC codes of acute/lab_results.csv (values in UK units).
enum class Lab : uint8_t { kCreatinine, kLactate, kCrp, kHaemoglobin, kPotassium, kSodium, kCount };
struct LabInfo {
  const char* loinc;
  const char* unit;
  int decimals;
  const char* term;
};
const LabInfo& Info(Lab code);

// SNOMED CT presenting complaints in acute/ae_attendances.csv.
enum class Complaint : uint8_t {
  kFall, kChestPain, kAbdominalPain, kBreathless, kFever, kHeadache, kSyncope, kLaceration,
  kConfusion, kBackPain, kLimbPain, kPalpitations, kVomiting, kRash, kWheeze, kCount
};
struct ComplaintInfo {
  const char* snomed;
  const char* term;
};
const ComplaintInfo& Info(Complaint code);

// Acute layout codes (NHS Data Dictionary values).
enum class ArrivalMode : uint8_t { kAmbulance, kWalkIn };
enum class Disposal : uint8_t { kAdmitted, kDischarged, kTransferred, kLeftUnseen, kDied };
enum class AdmissionMethod : uint8_t { kWaitingList, kBooked, kEmergencyAe, kEmergencyGp, kEmergencyOther };
enum class DischargeDest : uint8_t { kUsualResidence, kCareHome, kOtherHospital, kDied };
const char* Code(ArrivalMode v);   // AMB, WALK
const char* Code(Disposal v);      // ADM, DIS, TRF, LWBS, DIED
const char* Code(AdmissionMethod v);  // 11, 12, 21, 22, 28
const char* Code(DischargeDest v);    // 19, 54, 51, 79

// Community and social care layout codes.
enum class Service : uint8_t { kDistrictNursing, kFalls, kRehab, kRespiratory, kDiabetes };
enum class ContactType : uint8_t { kFaceToFace, kTelephone };
enum class AssessmentType : uint8_t { kNeeds, kCarer, kReview };
enum class Outcome : uint8_t { kService, kNoService, kSignpost };
enum class CareService : uint8_t { kHomeCare, kReablement, kResidential, kNursing };
const char* Code(Service v);         // DN, FALLS, REHAB, RESP, DIAB
const char* Code(ContactType v);     // F2F, TEL
const char* Code(AssessmentType v);  // NEEDS, CARER, REVIEW
const char* Code(Outcome v);         // SERVICE, NO_SERVICE, SIGNPOST
const char* Code(CareService v);     // HOME_CARE, REABLEMENT, RESIDENTIAL, NURSING

// Pathways of truth/episodes.csv.
enum class Pathway : uint8_t { kCopd, kFalls, kAki, kDiabetes, kSepsis, kCount };
const char* Code(Pathway v);  // copd, falls, aki, diabetes, sepsis

}  // namespace ark::synth
