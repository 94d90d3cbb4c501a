import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing, runShed, startServer, TEST_TLS, type TestServer } from "../harness/index.ts";
import { httpClient } from "./mcp-client.ts";

const skip = missing({ commands: ["ssh-keygen", "ssh"] });
if (skip) console.log(`MCP mtls test skipped: it needs ${skip}`);

/**
 * /api/mcp in auth.mode mtls, on loopback: the client certificate comes from the real
 * bootstrap (`shed server add` over the SSH door signs one); without it the TLS handshake
 * is refused; with it the tools work, and they reach the API with the certificate the
 * server's CA signs for itself (src/server/routes/mcp.ts).
 */
describe.skipIf(Boolean(skip))("/api/mcp in auth mtls mode", () => {
  let server: TestServer;
  let home: string;
  let client: { cert: string; key: string };
  let token: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "shed-mcp-mtls-"));
    Bun.spawnSync(["mkdir", "-p", join(home, ".ssh"), join(home, "client")]);
    Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(home, ".ssh", "id_ed25519")]);
    writeFileSync(join(home, "authorized_keys"), readFileSync(join(home, ".ssh", "id_ed25519.pub")));
    server = await startServer({ config: { auth: { mode: "mtls" }, ssh: { authorized_keys: [join(home, "authorized_keys")] } } });
    const env = { HOME: home, SSH_AUTH_SOCK: "", SHED_CONFIG_DIR: join(home, "client") };
    const add = await runShed(["server", "add", "127.0.0.1", "--name", "mutual", "--ssh-port", String(server.sshPort), "--trust-on-first-use"], { env });
    if (add.code !== 0) throw new Error(`shed server add: ${add.stderr}`);
    const entry = (parse(readFileSync(join(home, "client", "config.yaml"), "utf8")) as { servers: Record<string, Record<string, string>> }).servers.mutual!;
    client = { cert: entry.client_cert!, key: entry.client_key! };
    // In mtls mode a certificate comes with a token bound to its serial (revocation goes through it).
    token = entry.token!;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("refuses a client without a certificate at the TLS layer", async () => {
    expect(server.url).toMatch(/^https:/);
    // No HTTP answer at all (not a 401): the handshake fails.
    await expect(fetch(`${server.url}/api/mcp`, { method: "POST", tls: TEST_TLS } as RequestInit)).rejects.toThrow();
    await expect(httpClient(server)).rejects.toThrow();
  });

  it("with the bootstrap-signed certificate (and its bound token) it lists the tools and they reach the API", async () => {
    expect(client.cert).toContain("BEGIN CERTIFICATE");
    const certOnly = await fetch(`${server.url}/api/mcp`, { method: "POST", tls: { ...TEST_TLS, ...client } } as RequestInit);
    expect(certOnly.status).toBe(401);
    const mcp = await httpClient(server, token, client);
    try {
      expect((await mcp.client.listTools()).tools.map((t) => t.name)).toContain("exec");
      expect((await mcp.ok("server_info")).auth).toBe("mtls");
      expect(await mcp.ok("list_sheds")).toEqual({ sheds: [] });
    } finally {
      await mcp.close();
    }
  });
});
