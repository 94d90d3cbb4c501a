import { describe, expect, it } from "vitest";
import { CreateTimings, formatTimings } from "./create-timings.ts";

describe("create --timings", () => {
  it("splits a create into its phases by the progress items, provisioning being all after the agent", async () => {
    const t = new CreateTimings();
    const seen: string[] = [];
    const progress = t.track((e) => seen.push(e.id));
    for (const id of ["image", "volume", "container", "agent", "mounts", "clone", "agent"]) {
      progress({ id, status: "x" });
      await Bun.sleep(5);
    }
    const phases = t.finish();
    expect(seen).toHaveLength(7);
    expect(Object.keys(phases)).toEqual(["image", "storage", "start", "agent", "provisioning", "total"]);
    for (const p of ["image", "storage", "start", "agent", "provisioning"] as const) expect(phases[p]).toBeGreaterThan(0);
    expect(phases.image + phases.storage + phases.start + phases.agent + phases.provisioning).toBeLessThanOrEqual(phases.total + 5);
    expect(formatTimings({ image: 1, total: 2 })).toBe("timings: image 1 ms, total 2 ms");
  });

  it("a phase a backend did not report is 0", () => {
    const t = new CreateTimings();
    t.track(() => {})({ id: "container", status: "starting" });
    expect(t.finish().storage).toBe(0);
  });
});
