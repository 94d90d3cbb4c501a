import { existsSync, statSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { cloneFile, type CopyMethod } from "../../fs/clone-file.ts";
import { UPPER_DIRS } from "./upper-disk.ts";

/**
 * Snapshots of a VM shed's writable upper disk, the same for every VM backend: the snapshot
 * is a read-only (0444) copy of the stopped shed's upper disk, over the image's erofs lower
 * pinned by manifest digest; a spawn gets a writable (0644) copy. Both are reflinks where
 * the filesystem has them (extents shared until either side writes), sparse copies otherwise.
 */
export const SNAPSHOT_DISK = "upper.ext4";

export interface CapturedDisk {
  path: string;
  sizeBytes: number;
  copy: CopyMethod;
}

/** The upper disk of a stopped shed into `dir`, read-only. */
export async function captureUpperDisk(upper: string, dir: string): Promise<CapturedDisk> {
  if (!existsSync(upper)) throw new ShedError("SHED_UNHEALTHY", `the shed's writable disk ${upper} is gone, so there is nothing to snapshot; reset or delete the shed`);
  const path = join(dir, SNAPSHOT_DISK);
  const copy = await cloneFile(upper, path, 0o444);
  return { path, sizeBytes: statSync(path).size, copy };
}

/**
 * A spawn's own upper disk from a snapshot's, writable, with the identity the source left on
 * it taken off: /etc/machine-id leaves the upper layer (the image's empty one shows through,
 * so systemd makes a fresh id on the first boot), and the identity record goes, so the
 * guest's shed-firstboot gives the spawn its hostname and new SSH host keys even when it has
 * the source's name (guest/systemd/firstboot). The disk is not mounted: debugfs edits it.
 */
export async function spawnUpperDisk(snapshotDisk: string, upper: string): Promise<CopyMethod> {
  if (!existsSync(snapshotDisk)) throw new ShedError("NOT_FOUND", `the snapshot's disk ${snapshotDisk} is missing; delete the snapshot`);
  // Not flushed here (a copy of a GB upper took most of a spawn's disk time under load, and the
  // fresh path's template copy is not flushed either): the guest's first flush (virtio-blk ->
  // fdatasync of this file) makes all of it durable, and a crash before the create finishes
  // is an interrupted create, which removes the shed.
  const copy = await cloneFile(snapshotDisk, upper, 0o644, { durable: false });
  const root = `/${UPPER_DIRS[0]}`;
  const scratch = mkdtempSync(join(tmpdir(), "shed-identity-"));
  try {
    const cmds = join(scratch, "cmds");
    // `rm` of a path that is not there only prints; every other failure is debugfs's exit code.
    // systemd takes D-Bus's copy of the id before it makes a new one: it goes too.
    const paths = ["etc/machine-id", "var/lib/dbus/machine-id", "var/lib/shed/identity.json"];
    writeFileSync(cmds, `${paths.map((p) => `rm ${root}/${p}`).join("\n")}\n`);
    const debugfs = Bun.which("debugfs") ?? Bun.which("debugfs", { PATH: "/usr/sbin:/sbin" }) ?? "debugfs";
    const p = Bun.spawn([debugfs, "-w", "-f", cmds, upper], { stdout: "pipe", stderr: "pipe" });
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    if (code !== 0) throw new ShedError("INTERNAL", `clearing the source's identity on ${upper} failed (debugfs exit ${code}): ${err.trim()}`);
  } catch (err) {
    rmSync(upper, { force: true });
    throw err;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return copy;
}
