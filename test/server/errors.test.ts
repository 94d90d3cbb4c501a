import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenStore } from "../../src/server/auth/tokens.ts";
import { runShed, startServer, TEST_TLS, type TestServer, writeClientConfig } from "../harness/index.ts";

/**
 * Bad input gets a clear error and loses nothing. These run against a real shed-server whose
 * Docker socket points nowhere, so nothing here depends on dockerd.
 */
describe("errors (server without a reachable Docker engine)", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ config: { docker: { socket: "/nonexistent/docker.sock", default_image: "img:1" } } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("still serves info and list, and says the backend is unavailable", async () => {
    const info = await server.shedJson(["server", "list"]);
    expect(info.servers[0].name).toBe("test");
    const res = await fetch(`${server.url}/api/info`);
    const body = (await res.json()) as { backends: { name: string; available: boolean; reason?: string }[] };
    const docker = body.backends.find((b) => b.name === "docker");
    expect(docker).toMatchObject({ name: "docker", available: false });
    expect(docker?.reason).toContain("/nonexistent/docker.sock");
    const list = await server.shed(["list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("No sheds");
  });

  it("create with no engine: a clear error, exit 1, nothing left behind", async () => {
    const r = await server.shed(["create", "nodocker"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("Docker engine is not reachable");
    expect(r.stderr).toContain("BACKEND_UNAVAILABLE");
    expect((await server.shedJson(["list"])).sheds).toEqual([]);
  });

  it("invalid names are refused before any side effect, by the CLI and by the API", async () => {
    const r = await server.shedJson(["create", "Bad_Name"]);
    expect(r.error.code).toBe("INVALID_NAME");
    const res = await fetch(`${server.url}/api/sheds`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "-x" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("INVALID_NAME");
    const get = await fetch(`${server.url}/api/sheds/UPPER`);
    expect(get.status).toBe(400);
  });

  it("malformed JSON and invalid fields are 400 INVALID_REQUEST with the field", async () => {
    const bad = await fetch(`${server.url}/api/sheds`, { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "INVALID_REQUEST" });
    const field = await fetch(`${server.url}/api/sheds`, { method: "POST", body: JSON.stringify({ name: "ok", cpus: "many" }) });
    expect(field.status).toBe(400);
    const body = (await field.json()) as { code: string; message: string };
    expect(body.code).toBe("INVALID_REQUEST");
    expect(body.message).toContain("cpus");
  });

  it("unknown shed: 404 SHED_NOT_FOUND on every verb, exit 125", async () => {
    for (const verb of ["info", "start", "stop", "reset", "delete"]) {
      // delete and reset ask first: -y answers for a script.
      const r = await server.shedJson([verb, "ghost", ...(verb === "reset" || verb === "delete" ? ["-y"] : [])]);
      expect(r.error, verb).toEqual({ code: "SHED_NOT_FOUND", message: 'shed "ghost" not found' });
    }
    const r = await server.shed(["info", "ghost"]);
    expect(r.code).toBe(125);
  });

  it("unknown endpoints answer {code, message} too", async () => {
    const res = await fetch(`${server.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
  });

  it("usage errors exit 2, --json before or after the command (the error on stderr)", async () => {
    const r = await server.shed(["create"]);
    expect(r.code).toBe(2);
    const j1 = await server.shed(["--json", "frobnicate"]);
    const j2 = await server.shed(["frobnicate", "--json"]);
    expect(j1.code).toBe(2);
    expect(JSON.parse(j1.stderr).error.code).toBe("USAGE");
    expect(JSON.parse(j2.stderr).error.code).toBe("USAGE");
  });

  it("a corrupt state file is reported and listed as error; the server keeps serving", async () => {
    writeFileSync(join(server.stateDir, "sheds", "torn.json"), '{"name":"torn","ba');
    await server.restart();
    const sheds = (await server.shedJson(["list"])).sheds;
    expect(sheds).toHaveLength(1);
    expect(sheds[0]).toMatchObject({ name: "torn", state: "error" });
    expect(sheds[0].error).toContain("unreadable");
    expect(await Bun.file(server.logPath).text()).toContain("torn.json");
  });

  it("serves an OpenAPI document for every shed endpoint", async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/sheds", "/api/sheds/{name}", "/api/sheds/{name}/start"]));
  });
});

describe("auth and reachability", () => {
  let token = "";
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ config: { https_port: 0, auth: { mode: "token" }, docker: { socket: "/nonexistent/docker.sock" } } });
    // Minted into the store the server reads, as the SSH bootstrap does (test/server/remote-tls.test.ts runs that).
    token = new TokenStore(server.stateDir).mint(3600, "errors test").token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("needs the token on every call but /api/info, over HTTPS; plain HTTP only says to use HTTPS", async () => {
    const https = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers, tls: TEST_TLS });
    expect((await https("/api/info")).status).toBe(200);
    const none = await https("/api/sheds");
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: "UNAUTHORIZED" });
    expect((await https("/api/sheds", { authorization: "Bearer nope" })).status).toBe(401);
    expect((await https("/api/sheds", { authorization: `Bearer ${token}` })).status).toBe(200);
    const plain = await fetch(`http://127.0.0.1:${server.port}/api/sheds`, { headers: { authorization: `Bearer ${token}` }, redirect: "manual" });
    expect(plain.status).toBe(400);
    expect(plain.headers.get("location")).toBeNull();
    expect(await plain.json()).toMatchObject({ code: "HTTPS_REQUIRED" });
  });

  it("the CLI pointed at its plain HTTP port says to add it over SSH; `server add --http-port` refuses it", async () => {
    const r = await server.shedJson(["list"]);
    expect(r.error.code).toBe("HTTPS_REQUIRED");
    expect(r.error.message).toContain("shed server add HOST");
    const add = await server.shed(["server", "add", "127.0.0.1", "--name", "authd", "--http-port", String(server.port)]);
    expect(add.code).toBe(2);
    expect(add.stderr).toContain("over SSH");
    expect(await Bun.file(server.logPath).text()).not.toContain(token);
  });

  it("an unreachable server names the server and the address", async () => {
    const dir = `${server.dir}/unreachable-client`;
    writeClientConfig(dir, 1, 2);
    const r = await runShed(["list"], { env: { SHED_CONFIG_DIR: dir } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('server "test" at http://127.0.0.1:1');
    expect(r.stderr).toContain("SERVER_UNREACHABLE");
  });
});
