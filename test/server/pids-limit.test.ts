import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, namePrefix, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true });
const LIMIT = 128;

/**
 * A bound on processes (issue 14, defect 8): every Docker shed has a pids limit
 * (docker.pids_limit), shown in its info. A fork bomb in one shed, bounded itself (at most
 * 2^11 processes, each gone within 30 s, all of it under `timeout`), runs only once the limit
 * is seen in place; meanwhile the server and the other shed keep answering.
 */
describe.skipIf(skip)("pids limit on Docker sheds", () => {
  let server: TestServer;

  beforeAll(async () => {
    const image = await ensureTestImage("busybox");
    server = await startServer({ config: { docker: { default_image: image, pids_limit: LIMIT } } });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
  });

  const inspect = (name: string) => JSON.parse(sh(`docker inspect ${namePrefix}${name}`))[0];
  const pidsIn = (name: string) => Number(sh(`docker exec ${namePrefix}${name} cat /sys/fs/cgroup/pids/pids.current`).trim());

  it("the default is in place and info says what bounds a shed has", async () => {
    const plain = await startServer({ config: { docker: { default_image: await ensureTestImage("busybox") } } });
    try {
      await plain.shedJson(["create", "dflt"]);
      expect(inspect("dflt").HostConfig.PidsLimit).toBe(4096);
      expect((await plain.shedJson(["info", "dflt"])).limits).toMatchObject({ pids: 4096, cpus: 2, memoryMb: 4096 });
      await plain.shedJson(["delete", "dflt", "--force"]);
    } finally {
      await plain.stop();
    }
  });

  it("a bounded fork bomb hits the limit; the host and the other shed keep answering", async () => {
    await server.shedJson(["create", "bomb", "--memory", "512"]);
    await server.shedJson(["create", "calm"]);
    // The limit is in place before anything runs.
    expect(inspect("bomb").HostConfig.PidsLimit).toBe(LIMIT);
    expect(sh(`docker exec ${namePrefix}bomb cat /sys/fs/cgroup/pids/pids.max`).trim()).toBe(String(LIMIT));
    expect((await server.shedJson(["info", "bomb"])).limits).toMatchObject({ pids: LIMIT });

    // Each process forks two children down to depth 11; every one sleeps at most 30 s.
    const bomb = "b() { [ $1 -ge 11 ] && exec sleep 30; b $(($1+1)) & b $(($1+1)) & wait; }; b 0 2>>/tmp/fork-errors";
    sh(`docker exec -d ${namePrefix}bomb timeout -s KILL 40 sh -c '${bomb}'`);
    let errors = "";
    for (let i = 0; i < 150 && !/fork|resource|try again/i.test(errors); i++) {
      await Bun.sleep(200);
      errors = sh(`docker exec ${namePrefix}bomb cat /tmp/fork-errors 2>/dev/null || true`, { allowFail: true });
    }
    expect(errors).toMatch(/fork|resource|try again/i);
    expect(pidsIn("bomb")).toBeLessThanOrEqual(LIMIT);

    // Everything else answers while the bomb is at its limit.
    expect((await fetch(`${server.url}/api/info`)).status).toBe(200);
    const other = await server.shed(["exec", "calm", "--", "echo", "still here"]);
    expect(other.stdout).toBe("still here\n");
    expect(Bun.spawnSync(["true"]).exitCode).toBe(0);
    await server.shedJson(["delete", "bomb", "--force"]);
    await server.shedJson(["delete", "calm", "--force"]);
  });
});
