import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { ShedNameSchema } from "./shed.ts";

describe("shed names (DNS labels)", () => {
  const ok = (n: string) => v.safeParse(ShedNameSchema, n).success;
  it.each(["a", "my-project", "0day", "a".repeat(63), "x-1-y"])("accepts %s", (n) => expect(ok(n)).toBe(true));
  it.each(["", "-lead", "Upper", "under_score", "dot.ted", "a".repeat(64), "spa ce", "ünï", "a/b", "../x"])(
    "refuses %j",
    (n) => expect(ok(n)).toBe(false),
  );
});
