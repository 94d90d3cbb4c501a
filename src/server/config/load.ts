import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { ShedError } from "../../api/errors.ts";
import { formatIssues } from "../../api/validation.ts";
import { type ServerConfig, ServerConfigSchema } from "./schema.ts";

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
}

export function loadServerConfig(explicit?: string): LoadedConfig {
  for (const path of configSearchPath(explicit)) {
    if (!existsSync(path)) {
      if (explicit) throw new ShedError("INVALID_CONFIG", `${path}: no such file`);
      continue;
    }
    return { config: parseServerConfig(readFileSync(path, "utf8"), path), path };
  }
  return { config: v.parse(ServerConfigSchema, {}), path: undefined };
}

export function parseServerConfig(text: string, path = "server.yaml"): ServerConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `:${err.linePos[0].line}` : "";
    throw new ShedError(
      "INVALID_CONFIG",
      `${path}${where}: not valid YAML: ${(err as Error).message.split("\n")[0]}`,
      { cause: err },
    );
  }
  const result = v.safeParse(ServerConfigSchema, raw);
  if (!result.success) {
    throw new ShedError("INVALID_CONFIG", `${path}: ${formatIssues(result.issues)}`);
  }
  const config = result.output;
  if (config.credentials) {
    config.mounts = { ...config.credentials, ...config.mounts };
  }
  if (config.auth.mode === "token" && !config.auth.token && !config.auth.token_file) {
    throw new ShedError(
      "INVALID_CONFIG",
      `${path}: auth.mode is "token" but neither auth.token nor auth.token_file is set`,
    );
  }
  return config;
}
