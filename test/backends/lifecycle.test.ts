import { lifecycleSuite } from "./lifecycle-suite.ts";
import type { LifecycleTarget } from "./target.ts";

/**
 * The gate every backend passes: the lifecycle suite, once per backend. A new backend
 * (firecracker, vz) passes by adding its target here.
 */
const TARGETS: LifecycleTarget[] = [
  (await import("./targets/docker.ts")).dockerTarget,
  (await import("./targets/qemu.ts")).qemuTarget,
  (await import("./targets/firecracker.ts")).firecrackerTarget,
  (await import("./targets/vz.ts")).vzTarget,
  (await import("./trivial/target.ts")).trivialTarget,
];

for (const target of TARGETS) lifecycleSuite(target);
