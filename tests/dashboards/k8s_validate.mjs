// Validates Kubernetes manifests against the API's JSON schemas shipped in the npm package
// kubernetes-models (ajv inside). usage: node k8s_validate.mjs NODE_MODULES_DIR FILE...
// With --json FILE instead: print FILE's YAML documents as a JSON array (for the Python
// test, which then needs no YAML library of its own).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modules, ...files] = process.argv.slice(2);
const require = createRequire(path.join(modules, "x.js"));
const yaml = require("js-yaml");
if (files[0] === "--json") {
  console.log(JSON.stringify(yaml.loadAll(readFileSync(files[1], "utf8"))));
  process.exit(0);
}
let bad = 0, n = 0;
for (const f of files) {
  for (const doc of yaml.loadAll(readFileSync(f, "utf8"))) {
    if (!doc) continue;
    const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/")
                                                          : ["", doc.apiVersion];
    const modPath = "kubernetes-models/" + (group ? group + "/" : "") + version + "/" + doc.kind;
    // The package exports ESM only: import the model file itself.
    const mod = await import(pathToFileURL(path.join(modules, modPath + ".js")).href);
    try {
      new mod[doc.kind](doc).validate();
      console.log(`${f}: ${doc.kind} ${doc.metadata.name}: valid`);
    } catch (e) {
      console.log(`${f}: ${doc.kind} ${doc.metadata?.name}: ${e.message}`);
      bad++;
    }
    n++;
  }
}
if (!n) { console.log("no manifest"); process.exit(1); }
process.exit(bad ? 1 : 0);
