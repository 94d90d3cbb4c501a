import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/harness/temp-dir.ts";
import { lookupUser, supplementaryGroups } from "./users.ts";

const tempDir = useTempDirs();

describe("guest users", () => {
  it("finds a user's supplementary groups in /etc/group, not the primary one", () => {
    const dir = tempDir("etc");
    writeFileSync(join(dir, "passwd"), "root:x:0:0:root:/root:/bin/bash\nshed:x:1000:1000::/home/shed:/bin/bash\n");
    writeFileSync(join(dir, "group"), "root:x:0:\nsudo:x:27:shed\ndocker:x:998:alice,shed\nshed:x:1000:shed\nusers:x:100:shedder\n# c:x:5:shed\n");
    const shed = lookupUser("shed", join(dir, "passwd"));
    expect(supplementaryGroups(shed, join(dir, "group"))).toEqual([27, 998]);
    expect(supplementaryGroups(shed, join(dir, "missing"))).toEqual([]);
  });
});
