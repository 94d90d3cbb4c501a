import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ShedError } from "../api/errors.ts";

/**
 * Short-lived AWS credentials from the user's own configuration, in the shape the container
 * credentials provider answers: the profile's credential_process, else
 * `aws configure export-credentials` (SSO, assumed roles, anything the CLI resolves).
 * Kept in the broker's memory until shortly before they expire; never written anywhere.
 */
export interface AwsCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token?: string;
  Expiration?: string;
}

/** Renew this long before the Expiration the source gave. */
const RENEW_BEFORE_MS = 5 * 60_000;

export class AwsCredentialSource {
  private cached: { creds: AwsCredentials; until: number } | undefined;

  constructor(
    readonly profile: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** What this source would use, for `shed-ext status`. */
  describe(): string {
    if (credentialProcess(this.profile, this.env)) return `profile ${this.profile} (credential_process)`;
    if (Bun.which("aws", { PATH: this.env.PATH ?? "" })) return `profile ${this.profile} (aws configure export-credentials)`;
    return `not configured (profile ${this.profile} has no credential_process and there is no aws CLI)`;
  }

  async get(): Promise<AwsCredentials> {
    if (this.cached && Date.now() < this.cached.until) return this.cached.creds;
    const command = credentialProcess(this.profile, this.env);
    const argv = command
      ? ["/bin/sh", "-c", command]
      : Bun.which("aws", { PATH: this.env.PATH ?? "" })
        ? ["aws", "configure", "export-credentials", "--profile", this.profile, "--format", "process"]
        : undefined;
    if (!argv) throw new ShedError("BROKER_REFUSED", `the broker has no AWS credentials: profile ${this.profile} has no credential_process and there is no aws CLI`);
    const proc = Bun.spawn(argv, { env: this.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new ShedError("BROKER_REFUSED", `the broker's AWS credential source failed (exit ${code}): ${err.trim().split("\n").pop() ?? ""}`);
    const creds = fromProcessOutput(out);
    const expires = creds.Expiration ? Date.parse(creds.Expiration) : Number.NaN;
    // Long-lived keys (no Expiration) are asked again each time rather than held.
    if (Number.isFinite(expires)) this.cached = { creds, until: expires - RENEW_BEFORE_MS };
    return creds;
  }
}

/** credential_process's JSON (Version 1) -> the container provider's. */
export function fromProcessOutput(out: string): AwsCredentials {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(out) as Record<string, unknown>;
  } catch {
    throw new ShedError("BROKER_REFUSED", "the broker's AWS credential source printed something other than JSON");
  }
  const str = (k: string) => (typeof doc[k] === "string" ? (doc[k] as string) : undefined);
  const id = str("AccessKeyId");
  const secret = str("SecretAccessKey");
  if (!id || !secret) throw new ShedError("BROKER_REFUSED", "the broker's AWS credential source gave no AccessKeyId/SecretAccessKey");
  const token = str("SessionToken") ?? str("Token");
  const expiration = str("Expiration");
  return { AccessKeyId: id, SecretAccessKey: secret, ...(token ? { Token: token } : {}), ...(expiration ? { Expiration: expiration } : {}) };
}

/** The profile's credential_process in the AWS config file (AWS_CONFIG_FILE moves it). */
export function credentialProcess(profile: string, env: NodeJS.ProcessEnv): string | undefined {
  const path = env.AWS_CONFIG_FILE ?? join(env.HOME ?? homedir(), ".aws", "config");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const wanted = profile === "default" ? ["default", "profile default"] : [`profile ${profile}`];
  let inside = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section) inside = wanted.includes(section[1]!.trim());
    else if (inside) {
      const kv = /^credential_process\s*=\s*(.+)$/.exec(line);
      if (kv) return kv[1]!.trim();
    }
  }
  return undefined;
}
