import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { formatIssues } from "../../api/validation.ts";
import { clientConfigDir } from "../../cli/client-config.ts";
import { closest } from "../../cli/parse.ts";
import { type PortSpec, parsePortSpec } from "./forward.ts";

/** tunnels.yaml in the client config dir: named sets of ports (`profiles: {web: {ports: [3000, "8080:80"]}}`). */
const TunnelsFileSchema = v.object({
  profiles: v.record(v.string(), v.object({ ports: v.array(v.union([v.string(), v.number()])) })),
});

export function tunnelsFilePath(): string {
  return join(clientConfigDir(), "tunnels.yaml");
}

export function profilePorts(name: string): PortSpec[] {
  const path = tunnelsFilePath();
  if (!existsSync(path)) throw new ShedError("NOT_FOUND", `-p ${name}: there is no ${path} (profiles: {${name}: {ports: [3000]}})`);
  let raw: unknown;
  try {
    raw = Bun.YAML.parse(readFileSync(path, "utf8")) ?? {};
  } catch (err) {
    throw new ShedError("INVALID_CONFIG", `${path} is not valid YAML: ${(err as Error).message}`);
  }
  const r = v.safeParse(TunnelsFileSchema, raw);
  if (!r.success) throw new ShedError("INVALID_CONFIG", `${path}: ${formatIssues(r.issues)}`);
  const profile = r.output.profiles[name];
  if (!profile) {
    const guess = closest(name, Object.keys(r.output.profiles));
    throw new ShedError("NOT_FOUND", `no profile "${name}" in ${path}${guess ? `; did you mean ${guess}?` : ` (profiles: ${Object.keys(r.output.profiles).join(", ") || "none"})`}`);
  }
  return profile.ports.map((p) => parsePortSpec(String(p)));
}
