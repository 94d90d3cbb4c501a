import { describe, expect, it } from "vitest";
import { guestImageMissing, IMAGE_HOOK_MS, vmTestsMissing } from "../qemu/guest-image.ts";
import { checkVariant } from "./tools-check.ts";

/** The base variant (the one CI builds): every listed tool answers, Docker runs an image in the VM. */
const skip = vmTestsMissing() ?? guestImageMissing();

describe.skipIf(skip)("base image tools", () => {
  it(
    "every base tool answers --version as the shed user, and docker run works in the VM",
    async () => {
      const results = await checkVariant("base", (l) => console.error(`[base] ${l}`));
      const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.output}`);
      expect(failed).toEqual([]);
      expect(results.length).toBeGreaterThan(20);
    },
    IMAGE_HOOK_MS * 2,
  );
});
