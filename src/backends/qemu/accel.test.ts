import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootProbe, chooseAccel } from "./accel.ts";

const dir = mkdtempSync(join(tmpdir(), "shed-accel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const qemu = Bun.which("qemu-system-x86_64") !== null && process.arch === "x64";
if (!qemu) console.warn("skipped: needs qemu-system-x86_64 on x86_64");

describe("accelerator choice", () => {
  it.skipIf(!qemu)("the probe program really runs in a guest (here under TCG) and exits QEMU", async () => {
    expect(await bootProbe("qemu-system-x86_64", "tcg", 20_000)).toEqual({ ok: true });
  });

  it("tcg and kvm in the config are taken as they are", async () => {
    const never = async () => {
      throw new Error("must not probe");
    };
    expect((await chooseAccel("tcg", "qemu-system-x86_64", join(dir, "a.json"), never)).accel).toBe("tcg");
    expect((await chooseAccel("kvm", "qemu-system-x86_64", join(dir, "a.json"), never)).accel).toBe("kvm");
  });

  it("auto falls back to tcg with the probe's reason, and remembers the answer", async () => {
    let probes = 0;
    const hangs = async () => {
      probes++;
      return { ok: false, reason: "a test guest under KVM did not finish within 8s" };
    };
    const cache = join(dir, "auto.json");
    const first = await chooseAccel("auto", "qemu-system-x86_64", cache, hangs);
    expect(first).toEqual({ accel: "tcg", reason: "a test guest under KVM did not finish within 8s" });
    await chooseAccel("auto", "qemu-system-x86_64", cache, hangs);
    expect(probes).toBe(1);
    const works = async () => ({ ok: true });
    expect((await chooseAccel("auto", "qemu-system-x86_64", join(dir, "ok.json"), works)).accel).toBe("kvm");
  });
});
