#!/usr/bin/env python3
"""Builds the seed corpora fuzz/corpus/<harness>/ from the shared test data (../shared/data)
and small inline samples written after the unit tests. Run from anywhere:
    python3 fuzz/seeds.py [SHARED_DATA_DIR]
Seeds are kept small (the first rows of each file). The ledger, checkpoint and ingest seeds
need a real signing key and pseudonymiser: they are made by fuzz/make_seeds.cc (docs/fuzzing.md).
"""
import gzip, io, json, os, re, sys, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*p, mode="rb"):
    with open(os.path.join(DATA, *p), mode) as f:
        return f.read()


def head(text, n):
    return "".join(text.splitlines(keepends=True)[:n])


def files(parts):
    """Multi-file input (fuzz_util.h): [(name, text)] -> "=== name\\n" + text ..."""
    out = ""
    for name, text in parts:
        if not text.endswith("\n"):
            text += "\n"
        out += "=== " + name + "\n" + text
    return out


# ---- HL7 and MLLP
hl7 = {n: read("hl7", n) for n in sorted(os.listdir(os.path.join(DATA, "hl7")))}
ORU = (b"MSH|^~\\&|LAB|RXX01|CITYHUB|CITYREG|20250102080000||ORU^R01|LAB0001|P|2.4\r"
       b"PID|1||RXX1234567^^^RXX^MR~9990000018^^^NHS^NH||TEST^PATIENT||19700101|M\r"
       b"OBR|1||ORD1|26604007^FBC^SCT|||20250102074500\r"
       b"OBX|1|NM|2160-0^Creatinine^LN||180|umol/L|60-110|H|||F|||20250102075000\r"
       b"OBX|2|NM|718-7^Haemoglobin^LN||12.1|g/dL|||||F\r")
A02 = (b"MSH|^~\\&|PAS|RXX01|CITYHUB|CITYREG|20250103090000+0100||ADT^A02|MSG00002|P|2.4\r"
       b"EVN|A02|20250103085500\rPID|1||RXX1234567^^^RXX^MR||TEST^PATIENT\r"
       b"PV1|1|I|WARD2^R1^B3^RXX01||||||||||||||||V123|||||||||||||||||||||||||20250101115500\r")
for n, t in hl7.items():
    put("hl7_fuzz", n, t)
put("hl7_fuzz", "oru_r01.hl7", ORU)
put("hl7_fuzz", "adt_a02_offset.hl7", A02)
put("hl7_fuzz", "custom_separators.hl7", b"MSH#*@%$#PAS#RXX01#A#B#20250101##ADT*A08#C9#P#2.5\nPID#1##X*Y@Z%W##DOE*J\n")


def frame(m):
    return b"\x0b" + m + b"\x1c\r"


put("mllp_fuzz", "one_frame", b"\x40\x07" + frame(hl7["adt_a01.hl7"]))
put("mllp_fuzz", "two_frames_noise", b"\x80\x03" + b"noise" + frame(ORU) + b"\r\n" + frame(A02))
put("mllp_fuzz", "restart_and_fs", b"\x10\x01" + b"\x0bMSH|partial" + frame(b"MSH|^~\\&|A|B|C|D|2025||ADT^A08|X1|P|2.4\rPID|1||\x1cX\r"))
put("mllp_fuzz", "file_of_messages", b"\xff\x20" + hl7["adt_a01.hl7"] + b"\n" + hl7["adt_a40.hl7"])

# ---- FHIR
fdir = os.path.join(DATA, "fhir", "bulk_10_patients")
ndjson = {n: read("fhir", "bulk_10_patients", n).decode() for n in sorted(os.listdir(fdir)) if n.endswith(".ndjson")}
patients = [json.loads(l) for l in ndjson["Patient.000.ndjson"].splitlines()[:2]]
ids = [p["id"] for p in patients]


def lines_for(name, n):
    out = []
    for l in ndjson[name].splitlines():
        if any(i in l for i in ids) and len(l) < 6000:
            out.append(l)
        if len(out) >= n:
            break
    return out


parts = [("Patient.000.ndjson", "\n".join(json.dumps(p) for p in patients))]
for n in ndjson:
    if n != "Patient.000.ndjson":
        parts.append((n, "\n".join(lines_for(n, 2))))
put("fhir_ndjson_fuzz", "bulk_2_patients", files(parts))
put("fhir_ndjson_fuzz", "patient_only", json.dumps(patients[0]) + "\n")
small_patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-03-04",
                 "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}]}
enc = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "IMP"},
       "subject": {"reference": "urn:uuid:p1"}, "period": {"start": "2020-01-02T03:04:05+01:00", "end": "2020-01-05"}}
obs = {"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"},
       "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0", "display": "Creatinine"}]},
       "effectiveDateTime": "2020-01-03T10:00:00Z", "valueQuantity": {"value": 180, "unit": "umol/L"},
       "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 120, "code": "mm[Hg]"}}]}
cond = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]}, "onsetDateTime": "2019-05"}
bundle = {"resourceType": "Bundle", "type": "transaction",
          "entry": [{"fullUrl": "urn:uuid:p1", "resource": small_patient}, {"resource": enc}, {"resource": obs}, {"resource": cond}]}
put("fhir_bundle_fuzz", "transaction_bundle.json", json.dumps(bundle))
put("fhir_bundle_fuzz", "ndjson", "\n".join(json.dumps(r) for r in (small_patient, enc, obs, cond)) + "\n")
put("fhir_bundle_fuzz", "single_observation.json", json.dumps(obs, indent=1))
for n in ("Encounter.000.ndjson", "Condition.000.ndjson", "Immunization.000.ndjson"):
    put("fhir_bundle_fuzz", "synthea_" + n, lines_for(n, 1)[0] + "\n")
put("fhir_ndjson_fuzz", "small_resources", files([("Patient.000.ndjson", json.dumps(small_patient)),
                                                   ("Other.000.ndjson", "\n".join(json.dumps(r) for r in (enc, obs, cond)))]))

# ---- HTTP
body = json.dumps(bundle)
put("http_fuzz", "healthz", b"\x40GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
put("http_fuzz", "post_fhir", ("\x10POST /fhir HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
                                "Content-Type: application/fhir+json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
put("http_fuzz", "pipelined", ("\x7fGET /api/live/indicators?x=1 HTTP/1.1\r\nAuthorization: Bearer a:b\r\n\r\n"
                                "GET /metrics HTTP/1.1\r\nAuthorization: Bearer t\r\n\r\n"
                                "GET /nope HTTP/1.0\r\n\r\n").encode())
put("http_fuzz", "chunked", ("\x05POST /fhir HTTP/1.1\r\nAuthorization: Bearer t\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "%x\r\n%s\r\n0\r\n\r\n" % (len(json.dumps(obs)), json.dumps(obs))).encode())

# ---- CSV, feed specs, extracts
csvs = {"febrl1.csv": ("linkage", "febrl", "dataset1.csv"), "clkhash.csv": ("linkage", "clkhash_dirty", "dirty_1000_50_1.csv"),
        "splink.csv": ("linkage", "splink_fake_1000", "fake_1000.csv"), "patients_log.csv": ("pathways", "eventdataR", "patients.csv")}
for n, p in csvs.items():
    put("csv_fuzz", n, head(read(*p).decode(), 30))
put("csv_fuzz", "quoted.csv", 'id,name,note\r\n1,"Smith, J","said ""hi""\nover two lines"\r\n2,,\r\n\r\n3,x,"end"')
put("csv_fuzz", "utf8.csv", "id,name\n1,Zoë\n2,Łukasz\n3,日本\n")

spec_src = open(os.path.join(ROOT, "src", "ingest", "builtin_specs.cc")).read()
specs = dict(re.findall(r'\{"(\w+)", R"\((.*?)\)"\}', spec_src, re.S))
for n, t in specs.items():
    put("feed_spec_fuzz", n + ".yaml", t)
GP_PATIENTS = ("patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,practice_code,"
               "registered_from,registered_to\n"
               "P1,9434765919,Alice,Brown,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2015-01-01,\n"
               "P2,,Bob,Green,1970-12-31,M,LS2 2BB,E01000002,7,B86001,2016-05-01,2020-01-01\n"
               "P3,943 476 5870,Carol,White,1988-02-30,F,LS3 3CC,E01000002,7,B86002,2017-01-01,\n"
               "P4,1234567890,Dan,Black,1999-01-01,M,LS4 4DD,E01000003,,B86002,2018-01-01,\n")
GP_EVENTS = ("patient_id,event_date,snomed_code,value,unit\n"
             "P1,2020-01-02,271649006,140,mmHg\nP1,2020-01-02,44054006,,\n"
             "P2,2019-06-01,60621009,27.5,kg/m2\nP9,2019-06-01,60621009,27.5,kg/m2\n")
put("feed_csv_fuzz", "gp", files([("patients.csv", GP_PATIENTS), ("events.csv", GP_EVENTS), ("optouts.csv", "nhs_number\n9434765919\n")]))
put("feed_csv_fuzz", "gp_explicit_spec", files([("spec.yaml", specs["gp"]), ("patients.csv", GP_PATIENTS), ("events.csv", GP_EVENTS),
                                                ("optouts.csv", "nhs_number\n9434765919\n")]))
put("feed_csv_fuzz", "acute", files([("spec.yaml", specs["acute"]),
                                     ("patients.csv", "mrn,nhs_no,forename,surname,dob,gender,postcode,lsoa\n"
                                      "M1,9434765919,A,B,04/03/1950,2,LS1 1AA,E01000001\nM2,,C,D,31/12/1970,1,,E01000002\n")]))

# ---- study definitions
for n in sorted(os.listdir(os.path.join(ROOT, "definitions"))):
    if not n.endswith(".yaml"):
        continue
    y = open(os.path.join(ROOT, "definitions", n)).read()
    parts = [("study.yaml", y)]
    for cl in sorted(set(re.findall(r"file: (codelists/[\w.-]+)", y))):
        parts.append((cl, open(os.path.join(ROOT, "definitions", cl)).read()))
    put("study_fuzz", n, files(parts))
for n in sorted(os.listdir(os.path.join(ROOT, "tests", "study"))):
    if not n.endswith(".test"):
        continue
    text = open(os.path.join(ROOT, "tests", "study", n)).read()
    data = re.search(r"^data\n(.*?)^----", text, re.S | re.M)
    defs = re.findall(r"^definition\n(.*?)^(?:----|expect)", text, re.S | re.M)
    for i, d in enumerate(defs[:6]):
        parts = [("study.yaml", d)]
        if data and i == 0:
            parts.append(("data", data.group(1)))
        put("study_fuzz", "%s_%d" % (n[:-5], i), files(parts))

# ---- pathways
for n in sorted(os.listdir(os.path.join(ROOT, "pathways"))):
    if n.endswith(".yaml"):
        put("pathway_fuzz", n, open(os.path.join(ROOT, "pathways", n)).read())
pat = read("pathways", "eventdataR", "patients.csv").decode()
bill = read("pathways", "eventdataR", "hospital_billing.csv").decode()
put("csv_log_fuzz", "patients.csv", head(pat, 40))
put("csv_log_fuzz", "hospital_billing.csv", head(bill, 40))
put("csv_log_fuzz", "named_columns.csv", "\x00c,a,t,x\n1,Register,2020-01-01T10:00:00Z,a\n1,Triage,2020-01-01T10:30:00.5+01:00,a\n2,Register,2020-01-02,b\n")
XES = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
  <classifier name="Activity" keys="concept:name"/>
  <trace>
    <string key="concept:name" value="case &amp; 1"/>
    <int key="age" value="71"/>
    <event>
      <string key="concept:name" value="Register"/>
      <date key="time:timestamp" value="2012-12-16T19:33:10.123+01:00"/>
      <string key="org:resource" value="Clerk"/>
      <string key="lifecycle:transition" value="complete"/>
    </event>
    <event>
      <string key="concept:name" value="Triage &lt;A&gt;"/>
      <date key="time:timestamp" value="2012-12-16T20:00:00Z"/>
      <list key="l"><values><string key="x" value="y"/></values></list>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="2"/>
    <event><string key="concept:name" value="Register"/><date key="time:timestamp" value="2012-12-17T08:00:00"/></event>
  </trace>
</log>
"""
put("xes_fuzz", "small.xes", XES)
put("xes_fuzz", "comments_cdata.xes", "<?xml version='1.0'?>\n<!-- c -->\n<log><trace><string key='concept:name' value='a'/>"
    "<event><string key=\"concept:name\" value=\"x\"/><date key=\"time:timestamp\" value=\"2020-01-01T00:00:00Z\"/></event></trace></log>\n")

# ---- OMOP
z = zipfile.ZipFile(os.path.join(DATA, "omop", "synthea27nj_5.4", "Synthea27Nj_5.4.zip"))
tables = {}
for info in z.infolist():
    base = os.path.basename(info.filename)
    if info.filename.startswith("__MACOSX") or not base.endswith(".csv"):
        continue
    tables[base] = z.read(info).decode("utf-8", "replace")
person = tables["PERSON.csv"].splitlines()
pid_col = person[0].lower().split(",").index("person_id")
keep = [r.split(",")[pid_col] for r in person[1:3]]


def rows_of(table, n):
    ls = tables[table].splitlines()
    hdr = ls[0].lower().split(",")
    out = [ls[0]]
    if "person_id" not in hdr:
        return out + ls[1:1 + n]
    c = hdr.index("person_id")
    for r in ls[1:]:
        f = r.split(",")
        if len(f) > c and f[c] in keep:
            out.append(r)
        if len(out) > n:
            break
    return out


omop = []
codes = set()
for t in ("PERSON.csv", "OBSERVATION_PERIOD.csv", "VISIT_OCCURRENCE.csv", "CONDITION_OCCURRENCE.csv", "DRUG_EXPOSURE.csv",
          "PROCEDURE_OCCURRENCE.csv", "MEASUREMENT.csv", "OBSERVATION.csv", "DEATH.csv"):
    rs = rows_of(t, 3)
    omop.append((t.lower(), "\n".join(rs)))
    for r in rs[1:]:
        codes.update(x for x in r.split(",") if x.isdigit())
concept = tables["CONCEPT.csv"].splitlines()
omop.append(("concept.csv", "\n".join([concept[0]] + [r for r in concept[1:] if r.split(",")[0] in codes][:40])))
put("omop_fuzz", "synthea_2_persons", files(omop))
put("omop_fuzz", "person_only", "\n".join(person[:3]) + "\n")

# ---- MEDS
meds = gzip.decompress(read("meds", "aces_sample", "aces_meds_sample_all.csv.gz")).decode()
put("meds_fuzz", "aces_head.csv", head(meds, 60))
put("meds_fuzz", "aces_head.csv.gz", gzip.compress(head(meds, 20).encode(), mtime=0))
put("meds_fuzz", "units.csv", "subject_id,time,code,numeric_value,unit\n1,,GENDER//F,,\n1,1970-03-01,MEDS_BIRTH,,\n"
    "1,2020-01-02T03:04:05.123456,LAB//K,4.1,mmol/L\n1,2021-05-06,MEDS_DEATH,,\n")
print("corpora written to", OUT)
