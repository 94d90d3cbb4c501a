import { ShedError } from "../api/errors.ts";

/** `-e K=V` flags (citty gives a string, or an array when repeated) -> a record. */
export function parseEnvPairs(value: string | string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of Array.isArray(value) ? value : [value]) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ShedError("USAGE", `-e takes KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}
