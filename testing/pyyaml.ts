/** What PyYAML (the YAML reader Synapse, the bridges and MindRoom use) makes of a document. */
import { execFileSync } from "node:child_process";
import { venvPython } from "./pythonTools.ts";

export function pyyaml(document: string): unknown {
  const out = execFileSync(
    venvPython(),
    ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"],
    { input: document },
  );
  return JSON.parse(out.toString());
}
