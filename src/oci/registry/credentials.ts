import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Registry credentials from Docker's client config (`docker login` writes it):
 * `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, the `auths` section with
 * `auth` (base64 user:password), `username`/`password`, or `identitytoken` (OAuth2 refresh token).
 * Credential helpers (`credsStore`, `credHelpers`) are not run.
 */
export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token from `docker login` against token servers that issue them. */
  identityToken?: string;
}

export type CredentialSource = (registry: string) => Credentials | undefined;

export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  const dir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker");
  return join(dir, "config.json");
}

/** Reads the file on each call, so a `docker login` while the server runs is picked up. */
export function dockerConfigCredentials(path = dockerConfigPath()): CredentialSource {
  return (registry) => {
    if (!existsSync(path)) return undefined;
    let auths: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
    try {
      auths = (JSON.parse(readFileSync(path, "utf8")) as { auths?: typeof auths }).auths ?? {};
    } catch {
      return undefined;
    }
    for (const [key, entry] of Object.entries(auths)) {
      if (normalizeRegistryKey(key) !== normalizeRegistryKey(registry)) continue;
      const creds: Credentials = {};
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon > 0) {
          creds.username = decoded.slice(0, colon);
          creds.password = decoded.slice(colon + 1);
        }
      }
      if (entry.username) creds.username = entry.username;
      if (entry.password) creds.password = entry.password;
      if (entry.identitytoken) creds.identityToken = entry.identitytoken;
      if (creds.username || creds.identityToken) return creds;
    }
    return undefined;
  };
}

/** `https://index.docker.io/v1/`, `docker.io` and `registry-1.docker.io` are one registry; others by host[:port]. */
export function normalizeRegistryKey(key: string): string {
  let host = key.replace(/^[a-z]+:\/\//i, "");
  host = host.split("/")[0]!.toLowerCase();
  if (host === "index.docker.io" || host === "registry-1.docker.io" || host === "docker.io") return "docker.io";
  return host;
}
