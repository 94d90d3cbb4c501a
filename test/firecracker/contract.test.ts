import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadContract, matchOperation, validate } from "./contract.ts";
import { generateTypes, TYPES_FILE } from "./gen-types.ts";

/** The contract as data: what the stand-in validates with and the backend's types come from. */
describe("Firecracker contract", () => {
  const contract = loadContract();

  it("is v1.14.1, and the backend's generated types are up to date with it (bun test/firecracker/gen-types.ts)", () => {
    expect(contract.version).toBe("1.14.1");
    expect(readFileSync(TYPES_FILE, "utf8")).toBe(generateTypes(contract));
  });

  it("reads each operation's phase from Firecracker's own summary", () => {
    const phase = (m: string, p: string) => matchOperation(contract, m, p)?.op.phase;
    expect(phase("PUT", "/machine-config")).toBe("pre-boot");
    expect(phase("PUT", "/drives/upper")).toBe("pre-boot");
    expect(phase("PATCH", "/drives/upper")).toBe("post-boot");
    expect(phase("PUT", "/actions")).toBe("any");
    expect(matchOperation(contract, "PUT", "/vm")).toBeUndefined();
    expect(matchOperation(contract, "PUT", "/drives/a/b")).toBeUndefined();
  });

  it("validates nested definitions, integers, enums and unknown fields", () => {
    const drive = { $ref: "#/definitions/Drive" };
    expect(validate(contract, drive, { drive_id: "a", is_root_device: false })).toBeUndefined();
    expect(validate(contract, drive, { drive_id: "a", is_root_device: "no" })).toContain("expected a boolean at `is_root_device`");
    expect(validate(contract, drive, { drive_id: "a", is_root_device: false, cache_type: "Fast" })).toContain("unknown variant `Fast`");
    expect(validate(contract, drive, { drive_id: "a", is_root_device: false, rate_limiter: { ops: { size: 1.5, refill_time: 1 } } })).toContain("expected an integer at `rate_limiter.ops.size`");
    expect(validate(contract, drive, { drive_id: "a", is_root_device: false, readonly: true })).toContain("unknown field `readonly`");
    expect(validate(contract, { $ref: "#/definitions/Vsock" }, { guest_cid: 2, uds_path: "/x" })).toContain("below the minimum 3");
    expect(validate(contract, { $ref: "#/definitions/FullVmConfiguration" }, { drives: [{ drive_id: 1, is_root_device: true }] })).toContain("expected a string at `drives[0].drive_id`");
  });
});
