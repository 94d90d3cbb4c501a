import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bounded } from "../harness/bounded.ts";
import { eventually } from "../harness/eventually.ts";
import { startServer, type TestServer } from "../harness/index.ts";
import { baseImage, IMAGE_HOOK_MS, vmTestsMissing } from "../qemu/guest-image.ts";
import { installStandin, standinMissing } from "./standin/install.ts";

/**
 * A single-file credential of a vz shed (a config mount of a file, seed 001), through the
 * vfkit stand-in with a real VM: tar'd in over the agent on create, kept in sync both ways
 * while the shed runs (vm-boot/file-sync.ts: host inotify, `shed-agent watch` in the guest),
 * and copied in again at the next start (a change made while stopped is what the guest sees).
 */
const skip = vmTestsMissing() ?? standinMissing();
if (skip) console.warn(`vz credential tests: ${skip}`);
const T = 900_000;
const TARGET = "/home/shed/.config/tool/token.json";

describe.skipIf(skip)("vz backend: a file credential copied in and kept in sync both ways", () => {
  const work = mkdtempSync(join(tmpdir(), "shed-vz-creds-"));
  const cred = join(work, "creds", "token.json");
  const standin = installStandin(work);
  let server: TestServer;

  const exec = async (cmd: string) => {
    const r = await server.shed(["exec", "c", "--", "sh", "-c", cmd], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`exec ${cmd} failed (${r.code}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const ok = async (args: string[]) => {
    const r = await server.shed(args, { timeoutMs: 860_000 });
    if (r.code !== 0) throw new Error(`shed ${args.join(" ")} failed (exit ${r.code}; stand-in log ${standin.log}):\n${r.stdout}${r.stderr}`);
  };

  beforeAll(async () => {
    mkdirSync(join(work, "creds"));
    writeFileSync(cred, '{"token":"one"}\n');
    const image = (await bounded("building the base guest image", IMAGE_HOOK_MS - 60_000, baseImage())).ref;
    server = await bounded(
      "starting shed-server",
      60_000,
      startServer({
        config: {
          enabled_backends: ["vz"],
          default_backend: "vz",
          mounts: { token: { source: cred, target: TARGET, readonly: false } },
          vz: { vfkit_path: standin.path, default_cpus: 1, default_memory_mb: 1024, start_timeout: 800, stop_timeout: 60, image_aliases: { base: image } },
        },
      }),
    );
  }, IMAGE_HOOK_MS);

  afterAll(async () => {
    await server?.shed(["delete", "c", "--force"], { timeoutMs: T }).catch(() => {});
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }, T);

  it("is copied in on create", async () => {
    await ok(["create", "c", "--image", "base"]);
    expect(await exec(`cat ${TARGET}`)).toBe('{"token":"one"}\n');
  }, T);

  it("a host change appears in the guest, a guest change on the host", async () => {
    writeFileSync(cred, '{"token":"two-from-host"}\n');
    expect(await eventually(() => exec(`cat ${TARGET}`), '{"token":"two-from-host"}\n')).toBe('{"token":"two-from-host"}\n');
    await exec(`echo '{"token":"three-from-shed"}' > ${TARGET}`);
    expect(await eventually(() => readFileSync(cred, "utf8"), '{"token":"three-from-shed"}\n')).toBe('{"token":"three-from-shed"}\n');
  }, T);

  it("after stop and start it is copied in again (a host change made while stopped is there)", async () => {
    await ok(["stop", "c"]);
    writeFileSync(cred, '{"token":"four-while-stopped"}\n');
    await ok(["start", "c"]);
    expect(await exec(`cat ${TARGET}`)).toBe('{"token":"four-while-stopped"}\n');
    // ... and the sync runs again after the start.
    writeFileSync(cred, '{"token":"five-after-start"}\n');
    expect(await eventually(() => exec(`cat ${TARGET}`), '{"token":"five-after-start"}\n')).toBe('{"token":"five-after-start"}\n');
  }, T);
});
