import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ShedError } from "../api/errors.ts";

/**
 * The docker credential helper's `get`, answered on the user's machine: the registry's
 * credHelpers entry, else credsStore, else an `auths` entry of ~/.docker/config.json
 * (DOCKER_CONFIG moves it), the same order Docker itself uses.
 */
export interface DockerCredentials {
  ServerURL: string;
  Username: string;
  Secret: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
}

/** The registry host a serverURL names ("https://registry:5000/v2/" -> "registry:5000"). */
export function registryHost(serverURL: string): string {
  const s = serverURL.trim();
  try {
    return new URL(s.includes("://") ? s : `https://${s}`).host;
  } catch {
    return s;
  }
}

export async function dockerCredentials(serverURL: string, env: NodeJS.ProcessEnv = process.env): Promise<DockerCredentials> {
  const host = registryHost(serverURL);
  const config = readConfig(env);
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  // The shed's own helper name would ask this broker again, through itself.
  if (helper && helper !== "shed") {
    const fromHelper = await askHelper(helper, serverURL, host);
    if (fromHelper) return fromHelper;
  }
  const entry = Object.entries(config.auths ?? {}).find(([key]) => registryHost(key) === host)?.[1];
  if (entry?.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) return { ServerURL: serverURL, Username: decoded.slice(0, colon), Secret: decoded.slice(colon + 1) };
  }
  if (entry?.username && entry.password) return { ServerURL: serverURL, Username: entry.username, Secret: entry.password };
  if (entry?.identitytoken) return { ServerURL: serverURL, Username: "<token>", Secret: entry.identitytoken };
  throw new ShedError("NOT_FOUND", `credentials not found in native keychain (the broker's Docker configuration has none for ${host})`);
}

function readConfig(env: NodeJS.ProcessEnv): DockerConfig {
  const path = dockerConfigPath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch {
    throw new ShedError("BROKER_REFUSED", `the broker's ${path} is not JSON`);
  }
}

/** `docker-credential-NAME get` on the user's machine; undefined when it knows no such registry. */
async function askHelper(name: string, serverURL: string, host: string): Promise<DockerCredentials | undefined> {
  const program = `docker-credential-${name}`;
  if (!Bun.which(program)) return undefined;
  const proc = Bun.spawn([program, "get"], { stdin: new TextEncoder().encode(serverURL), stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) return undefined;
  try {
    const doc = JSON.parse(out) as Partial<DockerCredentials>;
    if (typeof doc.Username === "string" && typeof doc.Secret === "string") return { ServerURL: doc.ServerURL ?? serverURL, Username: doc.Username, Secret: doc.Secret };
  } catch {}
  throw new ShedError("BROKER_REFUSED", `${program} get answered something other than credentials for ${host}`);
}
