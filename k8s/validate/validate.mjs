// Validates Kubernetes objects offline: reads multi-document YAML (kubectl kustomize output) on
// stdin and checks each object against the schema that kubernetes-models compiled from the
// Kubernetes OpenAPI spec (a custom resource: from its CRD's schema). One line per bad object on
// stderr; exit 1 if any object is bad.
// Usage: kubectl kustomize k8s/overlays/local | node k8s/validate/validate.mjs
import { parseAllDocuments } from "yaml";

const input = await new Promise((resolve, reject) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
  process.stdin.on("error", reject);
});

// apiVersion "v1" is the core group (module kubernetes-models/v1); "apps/v1" is kubernetes-models/apps/v1.
// Both checked by pattern first: they become module paths.
const apiVersionPattern = /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
const kindPattern = /^[A-Z][A-Za-z0-9]*$/;
const modules = new Map();
// Custom resources: their API group's models come from another package of the kubernetes-models
// family, compiled from the project's CRD schema (pinned in package.json like the core models).
const customResourcePackages = new Map([["monitoring.coreos.com", "@kubernetes-models/prometheus-operator"]]);

function modulePath(apiVersion) {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  return `${customResourcePackages.get(group) ?? "kubernetes-models"}/${apiVersion}`;
}

async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || !apiVersionPattern.test(apiVersion))
    return { error: `apiVersion ${JSON.stringify(apiVersion)} is not a Kubernetes API version` };
  if (typeof kind !== "string" || !kindPattern.test(kind)) return { error: `kind ${JSON.stringify(kind)} is not a kind` };
  if (!modules.has(apiVersion))
    modules.set(apiVersion, await import(modulePath(apiVersion)).catch(() => null));
  const module = modules.get(apiVersion);
  if (module === null) return { error: `apiVersion ${apiVersion} is unknown to kubernetes-models` };
  // The group's index also exports the types objects are made of (Container, ...): only a class
  // whose own apiVersion and kind are these is a model of this object.
  const model = module[kind];
  if (typeof model !== "function" || model.apiVersion !== apiVersion || model.kind !== kind)
    return { error: `kind ${kind} is unknown in ${apiVersion}` };
  return { model };
}

let objects = 0;
const failures = [];
for (const [index, doc] of parseAllDocuments(input).entries()) {
  const where = `document ${index + 1}`;
  if (doc.errors.length > 0) {
    failures.push(`${where}: not YAML: ${doc.errors[0].message.split("\n")[0]}`);
    continue;
  }
  const obj = doc.toJS();
  if (obj === null || obj === undefined) continue; // an empty document between two ---
  objects++;
  const name = `${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}`;
  const { model, error } = await modelFor(obj.apiVersion, obj.kind);
  if (error) {
    failures.push(`${where} (${name}): ${error}`);
    continue;
  }
  try {
    new model(obj).validate();
  } catch (e) {
    failures.push(`${where} (${name}): ${e.message}`);
  }
}

if (objects === 0 && failures.length === 0) failures.push("no objects on stdin");
for (const failure of failures) console.error(`invalid: ${failure}`);
if (failures.length > 0) process.exit(1);
console.log(`valid: ${objects} objects`);
