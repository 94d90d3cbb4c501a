import { join } from "node:path";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/harness/temp-dir.ts";
import { ENDPOINTS } from "../api/endpoints.ts";
import { DockerBackend } from "../backends/docker/backend.ts";
import { silentLogger } from "../log/logger.ts";
import { createApp } from "./app.ts";
import { ServerConfigSchema } from "./config/schema.ts";
import type { ServerContext } from "./context.ts";
import { createImageService } from "./images/service.ts";
import { ShedService } from "./sheds/service.ts";
import { ShedStore } from "./state/store.ts";

function testContext(): ServerContext {
  const stateDir = tempDir("app");
  const config = v.parse(ServerConfigSchema, { state_dir: stateDir, docker: { socket: join(stateDir, "no.sock") } });
  const docker = new DockerBackend({
    socket: config.docker.socket,
    serverId: "t",
    extraLabels: {},
    namePrefix: "t-",
    stateDir,
    logger: silentLogger,
    agentBundle: async () => ({ dir: stateDir, loader: "ld" }),
    dialUnix: async () => {
      throw new Error("no agent in unit tests");
    },
  });
  const backends = new Map([["docker", docker]] as const);
  const sheds = new ShedService(config, new ShedStore(stateDir, silentLogger), backends, "docker", silentLogger);
  const images = createImageService(config, stateDir, silentLogger, "test", "docker", sheds);
  return { config, version: "test", logger: silentLogger, backends, defaultBackend: "docker", sheds, images, stateDir, httpPort: 0, sshPort: 0 };
}

const tempDir = useTempDirs();

describe("HTTP API app", () => {
  const app = createApp(testContext());

  it("routes every endpoint of the catalog (the OpenAPI source)", async () => {
    for (const ep of ENDPOINTS) {
      const path = ep.path.replace("{name}", "x").replace(/\{\w+\}/g, "y");
      const res = await app.request(path, { method: ep.method.toUpperCase() });
      const body = res.headers.get("content-type")?.includes("json") ? ((await res.json()) as { code?: string }) : {};
      expect(body.code, `${ep.method} ${ep.path}`).not.toBe("NOT_FOUND");
    }
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
});
