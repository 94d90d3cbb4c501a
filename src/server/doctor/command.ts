import { defineCommand } from "citty";
import { toShedError } from "../../api/errors.ts";
import { loadServerConfig } from "../config/load.ts";
import type { CheckResult } from "./checks.ts";
import { formatChecks, runDoctor } from "./doctor.ts";

/** `shed-server doctor [--config PATH] [--json]`: exit 0 when no check FAILs. */
export const doctorCommand = defineCommand({
  meta: { name: "doctor", description: "Check this host for what shed-server needs (one line per check, with the fix)" },
  args: {
    config: { type: "string", description: "Path of server.yaml (default: search ./, ~/.config/shed/, /etc/shed/)" },
    json: { type: "boolean", description: "Print {ok, checks: [{check, status, message, fix}]}" },
  },
  async run({ args }) {
    let results: CheckResult[];
    try {
      const { config, path } = loadServerConfig(args.config);
      results = [{ check: "config", status: "PASS", message: path ?? "no server.yaml found: the defaults" }, ...(await runDoctor(config))];
    } catch (err) {
      const e = toShedError(err);
      results = [{ check: "config", status: "FAIL", message: `${e.message} (${e.code})`, fix: "fix server.yaml (shed-server config-validate shows what is wrong)" }];
    }
    const ok = results.every((r) => r.status !== "FAIL");
    process.stdout.write(args.json ? `${JSON.stringify({ ok, checks: results })}\n` : `${formatChecks(results)}\n`);
    if (!ok) process.exitCode = 1;
  },
});
