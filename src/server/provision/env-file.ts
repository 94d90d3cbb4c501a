import { readFileSync } from "node:fs";
import { expandHome } from "../../fs/home-path.ts";

/**
 * The server's `env_file`: KEY=VALUE lines (blank lines, `#` comments and a leading `export`
 * allowed; one pair of surrounding quotes removed) handed to the repo clone and the hooks.
 * Read on every use, so an edited file applies to the next create or start.
 */
export function readEnvFile(path: string): { env: Record<string, string>; warnings: string[] } {
  const file = expandHome(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return { env: {}, warnings: [`env_file ${file} could not be read (${(err as NodeJS.ErrnoException).code ?? err}); hooks run without it`] };
  }
  return parseEnvFile(text, file);
}

export function parseEnvFile(text: string, where: string): { env: Record<string, string>; warnings: string[] } {
  const env: Record<string, string> = {};
  const warnings: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) {
      warnings.push(`${where}:${i + 1}: not KEY=VALUE; line skipped`);
      return;
    }
    let value = m[2]!;
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    env[m[1]!] = value;
  });
  return { env, warnings };
}
