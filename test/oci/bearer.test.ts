import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullImage } from "../../src/oci/image-ops/pull.ts";
import { pushImage } from "../../src/oci/image-ops/push.ts";
import { RegistryClient } from "../../src/oci/registry/client.ts";
import { dockerConfigCredentials } from "../../src/oci/registry/credentials.ts";
import { openContentStore } from "../../src/oci/store/layout.ts";
import { missing } from "../harness/host.ts";
import { busyboxRootfsTar } from "../harness/images.ts";
import { makeLayoutImage, skopeoCopy, skopeoDigest } from "./lib/images.ts";
import { startRegistry, type TestRegistry } from "./lib/registry.ts";
import { startTokenServer, type TokenServer } from "./lib/token-server.ts";

const skip = missing({ commands: ["docker-registry", "skopeo", "openssl"] });

describe.skipIf(skip)("bearer tokens: the WWW-Authenticate challenge flow against docker-registry in token mode", () => {
  let work: string;
  let tokens: TokenServer;
  let reg: TestRegistry;
  const user = { name: "bob", password: "token-pass-123" };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "shed-oci-bearer-"));
    tokens = startTokenServer(work, user);
    reg = await startRegistry(join(work, "registry"), { token: tokens });
    const layout = join(work, "layout");
    makeLayoutImage(layout, { tag: "t", layers: [busyboxRootfsTar()], gzip: true });
    const creds = ["--dest-creds", `${user.name}:${user.password}`];
    await skopeoCopy(`oci:${layout}:t`, `docker://${reg.host}/public/bb:1`, creds);
    await skopeoCopy(`oci:${layout}:t`, `docker://${reg.host}/team/bb:1`, creds);
  });
  afterAll(async () => {
    await reg?.stop();
    tokens?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("pulls a public repository with an anonymous token, and caches the token per scope", async () => {
    const client = new RegistryClient({ credentials: () => undefined });
    const store = openContentStore(join(work, "anon"));
    tokens.requests.length = 0;
    const r = await pullImage(client, store, `${reg.host}/public/bb:1`);
    expect(tokens.requests.length).toBe(1);
    expect(tokens.requests[0]!.scopes).toContain("repository:public/bb:pull");
    await pullImage(client, store, `${reg.host}/public/bb:1`);
    expect(tokens.requests.length).toBe(1);
    // skopeo asks the same issuer for its own token.
    expect(r.digest).toBe(await skopeoDigest(`docker://${reg.host}/public/bb:1`));
  });

  it("a private repository without credentials: REGISTRY_UNAUTHORIZED with how to log in", async () => {
    const client = new RegistryClient({ credentials: () => undefined });
    const err = await pullImage(client, openContentStore(join(work, "anon2")), `${reg.host}/team/bb:1`).catch((e) => e);
    expect(err.code).toBe("REGISTRY_UNAUTHORIZED");
    expect(err.message).toContain("docker login");
  });

  it("with credentials from the docker config: pulls, and pushes with a pull,push token (mounting across repos)", async () => {
    const cfgDir = join(work, "cfg");
    mkdirSync(cfgDir, { recursive: true });
    writeFileSync(join(cfgDir, "config.json"), JSON.stringify({ auths: { [reg.host]: { username: user.name, password: user.password } } }));
    const client = new RegistryClient({ credentials: dockerConfigCredentials(join(cfgDir, "config.json")) });
    const store = openContentStore(join(work, "authed"));
    const r = await pullImage(client, store, `${reg.host}/team/bb:1`);
    tokens.requests.length = 0;
    const pushed = await pushImage(client, store, `${reg.host}/team/bb:1`, `${reg.host}/team/copy:2`);
    expect(pushed.digest).toBe(r.digest);
    expect(pushed.mounted).toBe(2);
    expect(tokens.requests.some((q) => q.user === user.name && q.scopes.includes("repository:team/copy:pull,push"))).toBe(true);
    expect(await skopeoDigest(`docker://${reg.host}/team/copy:2`, ["--creds", `${user.name}:${user.password}`])).toBe(r.digest);
  });
});
