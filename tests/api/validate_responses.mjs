// Validates recorded HTTP responses against the OpenAPI 3.1 description with ajv (JSON Schema
// 2020-12, the dialect of OpenAPI 3.1), independently of the server's own code.
//
//   node validate_responses.mjs SPEC.json RESPONSES.json
//
// RESPONSES.json: [{"method": "GET", "route": "/api/v1/projects/{id}", "status": 200,
//                   "content_type": "application/json", "body": "..."}]
// Each response must be documented (its status under the operation, its content type) and its
// body must match the schema. Prints one line per problem; exit 1 if any, 0 otherwise.
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";

const [specPath, responsesPath] = process.argv.slice(2);
if (!specPath || !responsesPath) {
  console.error("usage: node validate_responses.mjs SPEC.json RESPONSES.json");
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, "utf8"));
const responses = JSON.parse(readFileSync(responsesPath, "utf8"));

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
ajv.addSchema(spec, "openapi.json");

const pointer = (parts) => parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
// Follows "#/components/responses/X" references of a response object.
const deref = (obj) => {
  let path = null;
  while (obj && obj.$ref) {
    path = obj.$ref.slice(2).split("/");
    obj = path.reduce((o, k) => o?.[k.replaceAll("~1", "/").replaceAll("~0", "~")], spec);
  }
  return { obj, path };
};

const compiled = new Map();
let problems = 0;
const problem = (r, msg) => {
  problems++;
  console.log(`${r.method} ${r.route} -> ${r.status}: ${msg}`);
};
for (const r of responses) {
  const op = spec.paths?.[r.route]?.[r.method.toLowerCase()];
  if (!op) { problem(r, "no such operation in the description"); continue; }
  const raw = op.responses?.[String(r.status)];
  if (!raw) { problem(r, `status ${r.status} is not documented for this operation`); continue; }
  const { obj: resp, path: refPath } = deref(raw);
  if (!resp.content) {
    if (r.body && r.body.length) problem(r, "the description has no body for this status, but one was sent");
    continue;
  }
  const ctype = (r.content_type || "").split(";")[0].trim();
  if (!resp.content[ctype]) { problem(r, `content type '${ctype}' is not documented`); continue; }
  const base = refPath ?? ["paths", r.route, r.method.toLowerCase(), "responses", String(r.status)];
  const ref = "openapi.json#/" + pointer([...base, "content", ctype, "schema"]);
  if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: ref }));
  const validate = compiled.get(ref);
  let body = r.body;
  if (ctype.endsWith("json")) {
    try { body = JSON.parse(r.body); } catch (e) { problem(r, `the body is not JSON: ${e.message}`); continue; }
  }
  if (!validate(body)) problem(r, ajv.errorsText(validate.errors, { dataVar: "body" }));
}
console.log(`${responses.length} responses checked against ${specPath}: ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
