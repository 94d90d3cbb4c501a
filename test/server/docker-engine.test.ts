import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShedError } from "../../src/api/errors.ts";
import { DockerEngine } from "../../src/backends/docker/engine.ts";
import { cleanupDocker, missing, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true });

/**
 * The Engine API client (issue 14, defect 4) against the real dockerd: a name with `..` makes
 * the engine answer a redirect, which must never be followed off the unix socket (Bun would
 * go to http://docker/... over TCP and report "is dockerd running?"); engine 4xx answers
 * become the shed code that says what was wrong.
 */
describe.skipIf(skip)("the Docker engine client", () => {
  const engine = new DockerEngine("/var/run/docker.sock");
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ config: { docker: { pull_policy: "never" } } });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
  });

  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
      return "ok";
    } catch (err) {
      return err instanceof ShedError ? err.code : `not a ShedError: ${String(err)}`;
    }
  };

  it("does not follow the engine's redirect for a path with `..`", async () => {
    expect(await engine.imageExists("../../x")).toBe(false);
    expect(await codeOf(engine.call("GET", `/images/${encodeURIComponent("../../x")}/json`))).toBe("INVALID_REQUEST");
    expect(await codeOf(engine.inspectContainer("../../x"))).not.toBe("BACKEND_UNAVAILABLE");
  });

  it("maps engine 4xx to the shed code: 400 INVALID_REQUEST, 404 NOT_FOUND", async () => {
    expect(await codeOf(engine.call("GET", `/images/${encodeURIComponent("UPPER/x")}/json`))).toBe("INVALID_REQUEST");
    expect(await codeOf(engine.call("GET", "/containers/no-such-container-shed-test/json"))).toBe("NOT_FOUND");
    expect(await codeOf(engine.call("POST", "/containers/create", { body: { Image: "" } }))).toBe("INVALID_REQUEST");
  });

  it("through the API: an image name with `..` is 400, not 503 'is dockerd running?'", async () => {
    for (const image of ["../../x", "a/../../b", "x/..", "UPPER/Case"]) {
      const res = await fetch(`${server.url}/api/sheds`, { method: "POST", body: JSON.stringify({ name: "dots", image }) });
      const body = (await res.json()) as { code: string; message: string };
      expect(res.status, `${image}: ${JSON.stringify(body)}`).toBeLessThan(500);
      expect(body.message).not.toContain("is dockerd running");
    }
  });
});
