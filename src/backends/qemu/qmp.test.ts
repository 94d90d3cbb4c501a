import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { QmpClient, qmpOnce } from "./qmp.ts";

const dir = mkdtempSync(join(tmpdir(), "shed-qmp-"));
const qemu = Bun.which("qemu-system-x86_64") !== null;
if (!qemu) console.warn("skipped: needs qemu-system-x86_64");
let proc: ReturnType<typeof Bun.spawn> | undefined;
afterAll(() => {
  proc?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("QMP client", () => {
  it.skipIf(!qemu)("talks to a real QEMU: status, an error, then quit", async () => {
    const sock = join(dir, "qmp.sock");
    // A machine without a guest, paused: costs no CPU.
    proc = Bun.spawn(
      ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none", "-S", "-qmp", `unix:${sock},server=on,wait=off`],
      { stdout: "ignore", stderr: "ignore" },
    );
    for (let i = 0; i < 100 && !existsSync(sock); i++) await Bun.sleep(50);
    const client = await QmpClient.connect(sock);
    expect(await client.execute<{ status: string }>("query-status")).toMatchObject({ status: "prelaunch" });
    await expect(client.execute("no-such-command")).rejects.toThrow(/QMP error CommandNotFound/);
    client.close();
    await qmpOnce(sock, "quit");
    expect(await proc.exited).toBe(0);
  });
});
