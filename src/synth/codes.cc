#include "synth/codes.h"

#include <cstddef>

namespace ark::synth {
namespace {

const GpCodeInfo kGp[] = {
    {"11429006", "", 0, "Consultation"},
    {"185317003", "", 0, "Telephone encounter"},
    {"271649006", "mmHg", 0, "Systolic blood pressure"},
    {"271650006", "mmHg", 0, "Diastolic blood pressure"},
    {"60621009", "kg/m2", 1, "Body mass index"},
    {"999791000000106", "mmol/mol", 0, "Haemoglobin A1c level - IFCC standardised"},
    {"113075003", "umol/L", 0, "Serum creatinine level"},
    {"13645005", "", 0, "Chronic obstructive lung disease"},
    {"195951007", "", 0, "Acute exacerbation of chronic obstructive airways disease"},
    {"195967001", "", 0, "Asthma"},
    {"44054006", "", 0, "Diabetes mellitus type 2"},
    {"38341003", "", 0, "Hypertensive disorder"},
    {"161898004", "", 0, "Falls"},
    {"925791000000100", "", 0, "Mild frailty"},
    {"925831000000107", "", 0, "Moderate frailty"},
    {"925861000000102", "", 0, "Severe frailty"},
    {"433144002", "", 0, "Chronic kidney disease stage 3"},
    {"14669001", "", 0, "Acute kidney injury"},
    {"91302008", "", 0, "Sepsis"},
    {"5913000", "", 0, "Fracture of neck of femur"},
    {"182836005", "", 0, "Review of medication"},
    {"77176002", "", 0, "Smoker"},
    {"8517006", "", 0, "Ex-smoker"},
    {"266919005", "", 0, "Never smoked tobacco"},
    {"325278007", "", 0, "Metformin 500mg tablets (dm+d VMP)"},
    {"319283006", "", 0, "Amlodipine 5mg tablets (dm+d VMP)"},
    {"319773006", "", 0, "Aspirin 75mg dispersible tablets (dm+d VMP)"},
    {"39113611000001102", "", 0, "Salbutamol 100micrograms/dose inhaler CFC free (dm+d VMP)"},
};
static_assert(sizeof(kGp) / sizeof(kGp[0]) == static_cast<std::size_t>(Gp::kCount));

const IcdInfo kIcd[] = {
    {"J44.1", "COPD with acute exacerbation"}, {"J44.0", "COPD with acute lower respiratory infection"},
    {"J44.9", "COPD, unspecified"}, {"J18.9", "Pneumonia, unspecified"},
    {"J22", "Unspecified acute lower respiratory infection"}, {"J45.9", "Asthma, unspecified"},
    {"N17.9", "Acute kidney failure, unspecified"}, {"A41.9", "Sepsis, unspecified"},
    {"W19", "Unspecified fall"}, {"S72.0", "Fracture of neck of femur"},
    {"S72.1", "Pertrochanteric fracture"}, {"S52.5", "Fracture of lower end of radius"},
    {"S06.0", "Concussion"}, {"R29.6", "Tendency to fall, not elsewhere classified"},
    {"E11.9", "Type 2 diabetes without complications"}, {"I21.9", "Acute myocardial infarction"},
    {"I50.9", "Heart failure, unspecified"}, {"I63.9", "Cerebral infarction, unspecified"},
    {"I10", "Essential hypertension"}, {"I48", "Atrial fibrillation and flutter"},
    {"N39.0", "Urinary tract infection"}, {"R07.4", "Chest pain, unspecified"},
    {"R10.4", "Other and unspecified abdominal pain"}, {"R55", "Syncope and collapse"},
    {"E86", "Volume depletion"}, {"K35.8", "Acute appendicitis, other"},
    {"F05.9", "Delirium, unspecified"}, {"L03.1", "Cellulitis of other parts of limb"},
    {"K92.2", "Gastrointestinal haemorrhage, unspecified"}, {"G40.9", "Epilepsy, unspecified"},
    {"H25.9", "Senile cataract, unspecified"}, {"M16.9", "Coxarthrosis, unspecified"},
    {"M17.9", "Gonarthrosis, unspecified"}, {"K40.9", "Inguinal hernia"},
    {"K80.2", "Calculus of gallbladder without cholecystitis"},
    {"K57.3", "Diverticular disease of large intestine"}, {"D12.6", "Benign neoplasm of colon"},
    {"N40", "Hyperplasia of prostate"}, {"K21.9", "Gastro-oesophageal reflux disease"},
    {"N92.0", "Excessive and frequent menstruation"}, {"I25.1", "Atherosclerotic heart disease"},
    {"C18.9", "Malignant neoplasm of colon"}, {"N18.3", "Chronic kidney disease, stage 3"},
    {"F03", "Unspecified dementia"}, {"C34.9", "Malignant neoplasm of bronchus or lung"},
    {"C50.9", "Malignant neoplasm of breast"}, {"C61", "Malignant neoplasm of prostate"},
    {"G30.9", "Alzheimer disease, unspecified"}, {"X59", "Exposure to unspecified factor"},
    {"P07.3", "Other preterm infants"}, {"R31", "Unspecified haematuria"},
    {"R51", "Headache"}, {"M54.5", "Low back pain"},
};
static_assert(sizeof(kIcd) / sizeof(kIcd[0]) == static_cast<std::size_t>(Icd::kCount));

const OpcsInfo kOpcs[] = {
    {"W46.1", "Primary prosthetic replacement of head of femur using cement"},
    {"W37.1", "Primary total prosthetic replacement of hip joint using cement"},
    {"W38.1", "Primary total prosthetic replacement of hip joint not using cement"},
    {"W40.1", "Primary total prosthetic replacement of knee joint using cement"},
    {"W19.1", "Primary open reduction of fracture of neck of femur and fixation using pin and plate"},
    {"C71.2", "Phakoemulsification of lens"},
    {"C75.1", "Insertion of prosthetic replacement for lens"},
    {"H22.9", "Unspecified diagnostic endoscopic examination of colon"},
    {"G45.1", "Fibreoptic endoscopic examination of upper gastrointestinal tract and biopsy"},
    {"T20.1", "Primary repair of inguinal hernia using insertion of prosthetic material"},
    {"J18.3", "Total cholecystectomy NEC"},
    {"M45.9", "Unspecified diagnostic endoscopic examination of bladder"},
    {"Q07.4", "Total abdominal hysterectomy NEC"},
    {"K40.1", "Saphenous vein graft replacement of one coronary artery"},
    {"K75.1", "Percutaneous transluminal balloon angioplasty and insertion of 1-2 drug-eluting stents"},
    {"E85.1", "Non-invasive ventilation NEC"},
    {"U05.1", "Computed tomography of head"},
};
static_assert(sizeof(kOpcs) / sizeof(kOpcs[0]) == static_cast<std::size_t>(Opcs::kCount));

const LabInfo kLab[] = {
    {"2160-0", "umol/L", 0, "Creatinine"},    {"2524-7", "mmol/L", 1, "Lactate"},
    {"1988-5", "mg/L", 0, "C reactive protein"}, {"718-7", "g/L", 0, "Haemoglobin"},
    {"2823-3", "mmol/L", 1, "Potassium"},      {"2951-2", "mmol/L", 0, "Sodium"},
};
static_assert(sizeof(kLab) / sizeof(kLab[0]) == static_cast<std::size_t>(Lab::kCount));

const ComplaintInfo kComplaint[] = {
    {"161898004", "Falls"},        {"29857009", "Chest pain"},   {"21522001", "Abdominal pain"},
    {"267036007", "Dyspnoea"},     {"386661006", "Fever"},       {"25064002", "Headache"},
    {"271594007", "Syncope"},      {"312608009", "Laceration"},  {"286933003", "Confusional state"},
    {"161891005", "Backache"},     {"10601006", "Pain in lower limb"}, {"80313002", "Palpitations"},
    {"422400008", "Vomiting"},     {"271807003", "Eruption of skin"}, {"56018004", "Wheezing"},
};
static_assert(sizeof(kComplaint) / sizeof(kComplaint[0]) == static_cast<std::size_t>(Complaint::kCount));

template <typename E, std::size_t N>
const char* Pick(E v, const char* const (&names)[N]) {
  std::size_t i = static_cast<std::size_t>(v);
  return i < N ? names[i] : "";
}

}  // namespace

const GpCodeInfo& Info(Gp code) { return kGp[static_cast<std::size_t>(code)]; }
const IcdInfo& Info(Icd code) { return kIcd[static_cast<std::size_t>(code)]; }
const OpcsInfo& Info(Opcs code) { return kOpcs[static_cast<std::size_t>(code)]; }
const LabInfo& Info(Lab code) { return kLab[static_cast<std::size_t>(code)]; }
const ComplaintInfo& Info(Complaint code) { return kComplaint[static_cast<std::size_t>(code)]; }

const char* Code(ArrivalMode v) { return Pick(v, {"AMB", "WALK"}); }
const char* Code(Disposal v) { return Pick(v, {"ADM", "DIS", "TRF", "LWBS", "DIED"}); }
const char* Code(AdmissionMethod v) { return Pick(v, {"11", "12", "21", "22", "28"}); }
const char* Code(DischargeDest v) { return Pick(v, {"19", "54", "51", "79"}); }
const char* Code(Service v) { return Pick(v, {"DN", "FALLS", "REHAB", "RESP", "DIAB"}); }
const char* Code(ContactType v) { return Pick(v, {"F2F", "TEL"}); }
const char* Code(AssessmentType v) { return Pick(v, {"NEEDS", "CARER", "REVIEW"}); }
const char* Code(Outcome v) { return Pick(v, {"SERVICE", "NO_SERVICE", "SIGNPOST"}); }
const char* Code(CareService v) { return Pick(v, {"HOME_CARE", "REABLEMENT", "RESIDENTIAL", "NURSING"}); }
const char* Code(Pathway v) { return Pick(v, {"copd", "falls", "aki", "diabetes", "sepsis"}); }

}  // namespace ark::synth
