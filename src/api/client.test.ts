import { describe, expect, it } from "vitest";
import { ApiClient } from "./client.ts";
import { IMAGE_API } from "./endpoints/images.ts";
import { SHED_API } from "./endpoints/sheds.ts";
import type { ShedError } from "./errors.ts";

/**
 * The client checks what the catalog declares before anything leaves the process. Port 9 on
 * loopback answers nothing: a request that went out would be SERVER_UNREACHABLE instead.
 */
const client = new ApiClient({ name: "nowhere", host: "127.0.0.1", httpPort: 9, sshPort: 0 }, 2000);
const refused = (p: Promise<unknown>) => p.then(() => undefined, (e: ShedError) => ({ code: e.code, message: e.message }));

describe("ApiClient.call checks parameters against the catalog first", () => {
  it("a shed name URL parsing would resolve away (`..`, `.`) is INVALID_NAME here", async () => {
    for (const name of ["..", ".", "a/b", "../../etc", "%2e%2e", "UPPER"]) {
      expect(await refused(client.call(SHED_API.getShed, { params: { name } })), name).toMatchObject({ code: "INVALID_NAME" });
    }
    expect(await refused(client.call(SHED_API.connectShedAgent, { params: { name: ".." } }))).toMatchObject({ code: "INVALID_NAME" });
  });

  it("says which parameter, with the same words as the server", async () => {
    const err = await refused(client.call(SHED_API.killSession, { params: { name: "ok", session: ".." } }));
    expect(err).toEqual({ code: "INVALID_NAME", message: expect.stringMatching(/^invalid session "\.\.": /) });
  });

  it("a query the schema refuses is INVALID_REQUEST naming the key", async () => {
    const err = await refused(client.call(IMAGE_API.inspectImage, { query: { ref: "../../etc/passwd" } }));
    expect(err?.code).toBe("INVALID_REQUEST");
    expect(err?.message).toContain("ref");
  });

  it("valid input does go out (and finds nobody on port 9)", async () => {
    expect(await refused(client.call(SHED_API.getShed, { params: { name: "ok" } }))).toMatchObject({ code: "SERVER_UNREACHABLE" });
  });
});
