import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { credentialProcess, fromProcessOutput } from "./aws-credentials.ts";
import { registryHost } from "./docker-credentials.ts";

describe("AWS credentials for the container endpoint", () => {
  it("turns credential_process output (Version 1) into the container provider's shape", () => {
    const out = JSON.stringify({ Version: 1, AccessKeyId: "AKIA1", SecretAccessKey: "sk", SessionToken: "tok", Expiration: "2030-01-01T00:00:00Z" });
    expect(fromProcessOutput(out)).toEqual({ AccessKeyId: "AKIA1", SecretAccessKey: "sk", Token: "tok", Expiration: "2030-01-01T00:00:00Z" });
    expect(() => fromProcessOutput("{}")).toThrow(/AccessKeyId/);
    expect(() => fromProcessOutput("not json")).toThrow(/JSON/);
  });

  it("finds a profile's credential_process in the config file", () => {
    const dir = mkdtempSync(join(tmpdir(), "shed-aws-"));
    const file = join(dir, "config");
    writeFileSync(file, "[default]\nregion = eu-west-1\ncredential_process = /bin/default-creds\n\n[profile dev]\ncredential_process = /bin/dev-creds --x\n");
    const env = { AWS_CONFIG_FILE: file };
    expect(credentialProcess("default", env)).toBe("/bin/default-creds");
    expect(credentialProcess("dev", env)).toBe("/bin/dev-creds --x");
    expect(credentialProcess("prod", env)).toBeUndefined();
  });
});

describe("registry host of a credential helper's server URL", () => {
  it("strips scheme and path as Docker's lookups do", () => {
    expect(registryHost("https://index.example/v1/")).toBe("index.example");
    expect(registryHost("127.0.0.1:5000")).toBe("127.0.0.1:5000");
    expect(registryHost("http://127.0.0.1:5000/v2/")).toBe("127.0.0.1:5000");
  });
});
