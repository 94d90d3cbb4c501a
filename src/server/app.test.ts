import { BrokerHub } from "./broker/hub.ts";
import { join } from "node:path";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/harness/temp-dir.ts";
import { ENDPOINTS } from "../api/endpoints.ts";
import { DockerBackend } from "../backends/docker/backend.ts";
import { silentLogger } from "../log/logger.ts";
import { ApiClient } from "../api/client.ts";
import { BROKER_API } from "../api/endpoints/broker.ts";
import { IMAGE_API } from "../api/endpoints/images.ts";
import { SERVER_API } from "../api/endpoints/server.ts";
import { SHED_API } from "../api/endpoints/sheds.ts";
import type { ShedError } from "../api/errors.ts";
import { createApp } from "./app.ts";
import { honoPath } from "./routes/mount.ts";
import { websocket } from "./websocket.ts";
import { ServerConfigSchema } from "./config/schema.ts";
import type { ServerContext } from "./context.ts";
import { createImageService } from "./images/service.ts";
import { ShedService } from "./sheds/service.ts";
import { ShedStore } from "./state/store.ts";
import { SnapshotService } from "./snapshots/service.ts";
import { SnapshotStore } from "./snapshots/store.ts";
import { SNAPSHOT_API } from "../api/endpoints/snapshots.ts";
import { SYSTEM_API } from "../api/endpoints/system.ts";
import { SystemService } from "./system/service.ts";

function testContext(): ServerContext {
  const stateDir = tempDir("app");
  const config = v.parse(ServerConfigSchema, { state_dir: stateDir, docker: { socket: join(stateDir, "no.sock") } });
  const images = createImageService(config, stateDir, silentLogger, "test", "docker", { list: async () => [] });
  const docker = new DockerBackend(
    {
      stateDir,
      serverId: "t",
      logger: silentLogger,
      images: images.resolver.forBackend("docker"),
      agentBundle: async () => ({ dir: stateDir, loader: "ld" }),
      dialAgent: async () => {
        throw new Error("no agent in unit tests");
      },
    },
    { ...config.docker, name_prefix: "t-" },
  );
  const backends = new Map([["docker", docker]] as const);
  const snapshotStore = new SnapshotStore(new Map([["docker", join(stateDir, "docker", "snapshots")]]));
  const sheds = new ShedService(config, new ShedStore(stateDir, silentLogger), backends, "docker", silentLogger, {}, snapshotStore);
  const snapshots = new SnapshotService(snapshotStore, sheds, backends, "t", silentLogger);
  const shedStore = new ShedStore(stateDir, silentLogger);
  const system = new SystemService({ stateDir, shedStore, snapshots, images, backends, logger: silentLogger });
  return { config, version: "test", logger: silentLogger, backends, defaultBackend: "docker", sheds, broker: new BrokerHub(silentLogger), images, snapshots, system, stateDir, httpPort: 0, sshPort: 0 };
}

const tempDir = useTempDirs();

describe("HTTP API app", () => {
  const app = createApp(testContext());

  it("routes exactly the catalog: every entry with its method, and no route that is not in it", () => {
    const routed = app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`);
    const catalog = ENDPOINTS.map((ep) => `${ep.method.toUpperCase()} ${honoPath(ep.path)}`);
    expect(new Set(routed).size, "a route registered twice").toBe(routed.length);
    expect([...routed].sort()).toEqual([...catalog].sort());
    // No group's id shadows another's in the catalog (a shadowed entry would be neither routed nor checked).
    expect(ENDPOINTS.length).toBe([SERVER_API, SHED_API, SNAPSHOT_API, SYSTEM_API, IMAGE_API, BROKER_API].reduce((n, g) => n + Object.keys(g).length, 0));
    // Beside the catalog: the token check on everything, and MCP's transport-owned path (routes/mcp.ts).
    expect(app.routes.filter((r) => r.method === "ALL").map((r) => r.path)).toEqual(["/api/*", "/api/mcp"]);
  });

  it("answers errors as {code, message} with the status of the code", async () => {
    const res = await app.request("/api/sheds/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "SHED_NOT_FOUND", message: 'shed "nope" not found' });
  });

  it("generates an OpenAPI document with request schemas and error codes", async () => {
    const doc = (await (await app.request("/api/openapi.json")).json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    const create = doc.paths["/api/sheds"].post;
    expect(create.requestBody.content["application/json"].schema.properties.name).toBeDefined();
    expect(create.responses["409"].description).toContain("SHED_EXISTS");
    expect(doc.paths["/api/info"].get.security).toEqual([]);
  });

  it("gives every operation its catalog id, and the document its servers", async () => {
    const doc = (await (await app.request("/api/openapi.json")).json()) as any;
    expect(doc.servers[0].url).toBe("http://{host}:{port}");
    const ids = ENDPOINTS.map((ep) => doc.paths[ep.path][ep.method].operationId);
    expect(ids).toEqual(ENDPOINTS.map((ep) => ep.id));
    expect(new Set(ids).size).toBe(ids.length);
    // Query parameters and binary bodies come from the catalog too.
    const save = doc.paths["/api/images/save"].get;
    expect(save.parameters.map((p: { name: string; in: string; required: boolean }) => `${p.in}:${p.name}:${p.required}`)).toEqual(["query:ref:true", "query:format:false"]);
    expect(Object.keys(doc.paths["/api/images/load"].post.requestBody.content)).toEqual(["application/x-tar"]);
    expect(Object.keys(doc.paths["/api/sheds"].post.responses["201"].content)).toEqual(["application/json"]);
  });

  it("answers the typed client on a real socket: JSON, SSE progress, 204 and errors", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => app.fetch(req, srv), websocket });
    try {
      const client = new ApiClient({ name: "t", host: "127.0.0.1", httpPort: server.port!, sshPort: 0 });
      expect((await client.call(SERVER_API.getInfo)).version).toBe("test");
      expect(await client.call(SHED_API.listSheds)).toEqual({ sheds: [] });
      const missing = await client.call(SHED_API.getShed, { params: { name: "nope" } }).catch((e: ShedError) => e);
      expect(missing).toMatchObject({ code: "SHED_NOT_FOUND", message: 'shed "nope" not found' });
      // A progress endpoint answers as SSE; its error comes as the stream's error event.
      const gone = await client.call(SHED_API.deleteShed, { params: { name: "nope" }, onProgress: () => {} }).catch((e: ShedError) => e);
      expect(gone).toMatchObject({ code: "SHED_NOT_FOUND" });
      expect((await client.call(IMAGE_API.listImages)).images).toEqual([]);
      const noRef = await client.call(IMAGE_API.inspectImage, { query: { ref: "absent/x:1" } }).catch((e: ShedError) => e);
      expect(noRef).toMatchObject({ code: "IMAGE_NOT_FOUND" });
    } finally {
      server.stop(true);
    }
  });
});
