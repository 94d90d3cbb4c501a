import { join } from "node:path";
import type { DiskClaim } from "../backend.ts";
import { dirEntries } from "../../fs/dir-entries.ts";

/**
 * What a VM backend keeps, for `system df` and `system prune` (the same for every VM
 * backend): each shed's instance directory and console log, and the boot files (kernel,
 * initramfs) extracted per image under `bootDir/<digest>/` (boot-image.ts), counted with
 * images and removed by `prune --images` when their image leaves the store.
 */
export function vmDiskClaims(instances: { name: string; data: { dir: string; console: string } }[], bootDir: string): DiskClaim[] {
  const claims: DiskClaim[] = [];
  for (const { name, data } of instances) {
    claims.push({ category: "sheds", name, path: data.dir });
    claims.push({ category: "logs", name, path: data.console });
  }
  for (const d of dirEntries(bootDir)) {
    const m = /^(sha256)-([0-9a-f]{64})$/.exec(d);
    claims.push({ category: "images", name: `boot files ${d}`, path: join(bootDir, d), ...(m ? { image: `${m[1]}:${m[2]}` } : {}) });
  }
  return claims;
}

