/**
 * A minimal writer of the "newc" cpio format the kernel unpacks as an initramfs. Written here
 * (not the cpio tool) so device nodes like /dev/console can go in without root and the
 * output is byte-for-byte reproducible (fixed mtimes and inode numbers).
 */
export type CpioEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; data: Uint8Array; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "char"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

export function cpioArchive(entries: CpioEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    size += b.length;
  };
  const pad4 = () => {
    const rem = size % 4;
    if (rem) push(new Uint8Array(4 - rem));
  };
  let ino = 1;
  const enc = new TextEncoder();
  const write = (path: string, mode: number, data: Uint8Array, rdev: [number, number] = [0, 0]) => {
    const name = enc.encode(`${path.replace(/^\/+/, "")}\0`);
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], name.length, 0];
    push(enc.encode(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`));
    push(name);
    pad4();
    push(data);
    pad4();
  };
  for (const e of entries) {
    switch (e.type) {
      case "dir":
        write(e.path, S_IFDIR | (e.mode ?? 0o755), new Uint8Array());
        break;
      case "file":
        write(e.path, S_IFREG | (e.mode ?? 0o644), e.data);
        break;
      case "symlink":
        write(e.path, S_IFLNK | 0o777, enc.encode(e.target));
        break;
      case "char":
        write(e.path, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(), [e.major, e.minor]);
        break;
    }
  }
  write("TRAILER!!!", 0, new Uint8Array());
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
