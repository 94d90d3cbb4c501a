import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { ShedError } from "../../api/errors.ts";

/**
 * A quick host-side look at the upper disk before booting: a missing file or a broken ext4
 * superblock is reported at once, in words, instead of as a VM that powers off.
 */
export function checkUpperDisk(path: string, shed: string): void {
  if (!existsSync(path)) {
    throw new ShedError(
      "SHED_UNHEALTHY",
      `the writable disk of shed "${shed}" is missing (${path}); \`shed reset ${shed}\` makes a fresh one (its changes are lost)`,
    );
  }
  const sb = Buffer.alloc(2);
  const fd = openSync(path, "r");
  try {
    readSync(fd, sb, 0, 2, 1024 + 0x38);
  } finally {
    closeSync(fd);
  }
  if (sb.readUInt16LE(0) !== 0xef53) {
    throw new ShedError(
      "SHED_UNHEALTHY",
      `the writable disk of shed "${shed}" is corrupt: ${path} holds no ext4 filesystem; \`shed reset ${shed}\` replaces it with a fresh one (its changes are lost)`,
    );
  }
}
