import { readFile } from "node:fs/promises";
import { loadPolicies } from "@meshloop/decision";
import type { Command } from "../main.ts";

/** `meshloop policy validate <file>...`: loads each file as the decision service would, running nothing. */
export const policyCommand: Command = {
  summary: "`policy validate <file>...` checks policy files (YAML) as the decision service loads them; exit 1 if any is invalid",
  async run(args) {
    const [action, ...files] = args;
    if (action !== "validate" || files.length === 0) {
      console.error("meshloop policy: say `validate <file>...`");
      return 2;
    }
    let failed = 0;
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        console.error(`${file}: cannot read: ${(error as Error).message}`);
        failed++;
        continue;
      }
      try {
        const policies = loadPolicies(text, file);
        console.log(`${file}: ok, ${policies.length} polic${policies.length === 1 ? "y" : "ies"} (${policies.map((p) => p.name).join(", ")})`);
      } catch (error) {
        console.error((error as Error).message);
        failed++;
      }
    }
    return failed === 0 ? 0 : 1;
  },
};
