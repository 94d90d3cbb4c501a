import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import * as v from "valibot";
import { isMap, LineCounter, parseDocument, type Document } from "yaml";
import { ShedError } from "../../api/errors.ts";
import { expandHome } from "../../fs/home-path.ts";
import { closestKey, knownKeysAt } from "./known-keys.ts";
import { type ServerConfig, serverConfigSchema } from "./schema.ts";

/** Where server.yaml is looked for, first match wins. */
export function configSearchPath(explicit?: string): string[] {
  if (explicit) return [explicit];
  return [
    "./server.yaml",
    join(homedir(), ".config", "shed", "server.yaml"),
    "/etc/shed/server.yaml",
  ];
}

export interface LoadedConfig {
  config: ServerConfig;
  /** The file it came from, or undefined when defaults were used. */
  path: string | undefined;
  /** Deprecated keys it used (each says what to write instead); the caller shows them. */
  warnings: string[];
}

export function loadServerConfig(explicit?: string): LoadedConfig {
  for (const path of configSearchPath(explicit)) {
    if (!existsSync(path)) {
      if (explicit) throw new ShedError("INVALID_CONFIG", `${path}: no such file; give the path of an existing server.yaml`);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new ShedError("INVALID_CONFIG", `${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
    const warnings: string[] = [];
    return { config: parseServerConfig(text, path, warnings), path, warnings };
  }
  return { config: v.parse(serverConfigSchema(), {}), path: undefined, warnings: [] };
}

/** server.yaml's text -> the config; deprecated keys it accepts are described into `warnings`. */
export function parseServerConfig(text: string, path = "server.yaml", warnings: string[] = []): ServerConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const where = yamlError.linePos ? `:${yamlError.linePos[0].line}` : "";
    throw new ShedError("INVALID_CONFIG", `${path}${where}: not valid YAML: ${yamlError.message.split("\n")[0]}`, { cause: yamlError });
  }
  const raw = doc.toJS() ?? {};
  const schema = serverConfigSchema();
  const result = v.safeParse(schema, raw);
  if (!result.success) {
    throw new ShedError("INVALID_CONFIG", result.issues.map((issue) => describeIssue(schema, issue, doc, lines, path)).join("; "));
  }
  const config = result.output;
  if (config.credentials) {
    config.mounts = { ...config.credentials, ...config.mounts };
  }
  renameSnapshotDir(config, path, warnings);
  if (Boolean(config.tls_cert_file) !== Boolean(config.tls_key_file)) {
    throw new ShedError("INVALID_CONFIG", `${path}: tls_cert_file and tls_key_file go together: set both, or neither (the server then makes its own)`);
  }
  for (const [i, root] of (config.mount_roots ?? []).entries()) {
    if (!isAbsolute(expandHome(root))) throw new ShedError("INVALID_CONFIG", `${path}: mount_roots.${i}: ${root} is not an absolute path`);
  }
  return config;
}

/** Sections with `snapshot_dir` (the name before seed 003's `snapshots_dir`): read as `snapshots_dir`, with a warning; both at once is an error. */
function renameSnapshotDir(config: ServerConfig, path: string, warnings: string[]): void {
  for (const [name, section] of Object.entries(config)) {
    if (!section || typeof section !== "object" || !("snapshot_dir" in section) || section.snapshot_dir === undefined) continue;
    const s = section as { snapshot_dir?: string; snapshots_dir?: string };
    if (s.snapshots_dir !== undefined) {
      throw new ShedError("INVALID_CONFIG", `${path}: ${name}.snapshot_dir and ${name}.snapshots_dir are the same setting: keep only snapshots_dir`);
    }
    warnings.push(`${path}: ${name}.snapshot_dir is deprecated: rename it to snapshots_dir`);
    s.snapshots_dir = s.snapshot_dir;
    delete s.snapshot_dir;
  }
}

/** `file:line: key.path: what is wrong` for a schema issue, with the closest known key for an unknown one. */
function describeIssue(schema: v.GenericSchema, issue: v.BaseIssue<unknown>, doc: Document, lines: LineCounter, file: string): string {
  const keys = (issue.path ?? []).map((p) => String(p.key));
  const line = lineOf(doc, lines, keys);
  const where = `${file}${line ? `:${line}` : ""}`;
  const dotted = keys.join(".");
  const last = issue.path?.at(-1);
  if (issue.type === "strict_object" && last && (last as { origin?: string }).origin === "key") {
    const known = knownKeysAt(schema, keys.slice(0, -1));
    const near = closestKey(keys.at(-1)!, known);
    return `${where}: unknown key "${dotted}"${near ? `; did you mean "${[...keys.slice(0, -1), near].join(".")}"?` : ""} (known here: ${known.join(", ")})`;
  }
  return `${where}: ${dotted ? `${dotted}: ` : ""}${issue.message}`;
}

/** The 1-based line of the key at `path` in the YAML document, when it is there. */
function lineOf(doc: Document, lines: LineCounter, path: string[]): number | undefined {
  if (path.length === 0) return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((item) => String((item.key as { value?: unknown } | null)?.value ?? item.key) === path.at(-1));
  const node = (pair?.key ?? pair?.value) as { range?: [number, number, number] } | undefined;
  return node?.range ? lines.linePos(node.range[0]).line : undefined;
}
