import * as v from "valibot";
import { formatIssues } from "../../api/validation.ts";

/** `.shed/provision.yaml` in the workspace (seed 004): hook scripts and their environment. */
const Script = v.pipe(v.string(), v.minLength(1), v.maxLength(1024));
export const ProvisionFileSchema = v.object({
  hooks: v.optional(
    v.object({
      install: v.optional(Script),
      startup: v.optional(Script),
      shutdown: v.optional(Script),
    }),
    {},
  ),
  env: v.optional(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")), v.string()), {}),
});
export type ProvisionFile = v.InferOutput<typeof ProvisionFileSchema>;
export type HookName = "install" | "startup" | "shutdown";

export const PROVISION_FILE = ".shed/provision.yaml";

/** Parses the file's text; a clear message naming the file and the key when it is wrong. */
export function parseProvisionFile(text: string, where: string): ProvisionFile | string {
  let data: unknown;
  try {
    data = Bun.YAML.parse(text) ?? {};
  } catch (err) {
    return `${where} is not valid YAML: ${(err as Error).message}`;
  }
  const r = v.safeParse(ProvisionFileSchema, data);
  return r.success ? r.output : `${where} is invalid: ${formatIssues(r.issues)}`;
}
