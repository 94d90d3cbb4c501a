import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type CpioEntry, cpioArchive } from "./cpio.ts";

/**
 * The shed initramfs: busybox (static), guest/init/init as /init, and the few kernel modules
 * the boot chain needs (guest/init/modules.txt plus their dependencies, in load order).
 * Uncompressed: it is a few MB and the kernel unpacks it faster than it would inflate it.
 */
export function buildInitramfs(opts: {
  /** guest/init: holds `init` and `modules.txt`. */
  initDir: string;
  /** lib/modules/<version> of the kernel the image carries. */
  modulesDir: string;
  busybox?: string;
}): Uint8Array {
  const busybox = opts.busybox ?? findBusybox();
  const wanted = readFileSync(join(opts.initDir, "modules.txt"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
  const order = moduleLoadOrder(opts.modulesDir, wanted);

  const entries: CpioEntry[] = [
    ...["bin", "dev", "proc", "sys", "run", "tmp", "newroot", "mnt", "mnt/shed", "lib", "lib/modules"].map(
      (path) => ({ type: "dir" as const, path }),
    ),
    { type: "char", path: "dev/console", major: 5, minor: 1 },
    { type: "char", path: "dev/null", major: 1, minor: 3, mode: 0o666 },
    { type: "file", path: "bin/busybox", data: readFileSync(busybox), mode: 0o755 },
    { type: "file", path: "init", data: readFileSync(join(opts.initDir, "init")), mode: 0o755 },
  ];
  for (const rel of order) {
    entries.push({ type: "file", path: `lib/modules/${basename(rel)}`, data: readFileSync(join(opts.modulesDir, rel)) });
  }
  entries.push({
    type: "file",
    path: "lib/modules/load-order",
    data: new TextEncoder().encode(order.map((r) => `${basename(r)}\n`).join("")),
  });
  return cpioArchive(entries);
}

/**
 * Module files (relative to modulesDir) to insmod, dependencies first, each once. Built-in
 * modules are skipped; an unknown name is an error naming the kernel release.
 */
export function moduleLoadOrder(modulesDir: string, names: string[]): string[] {
  const norm = (n: string) => n.replaceAll("-", "_");
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of readFileSync(join(modulesDir, "modules.dep"), "utf8").split("\n")) {
    const [path, rest] = line.split(":");
    if (!path || rest === undefined) continue;
    deps.set(norm(basename(path).replace(/\.ko(\.\w+)?$/, "")), {
      path,
      deps: rest.trim().split(/\s+/).filter(Boolean),
    });
  }
  const builtinFile = join(modulesDir, "modules.builtin");
  const builtin = new Set(
    existsSync(builtinFile)
      ? readFileSync(builtinFile, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((p) => norm(basename(p).replace(/\.ko$/, "")))
      : [],
  );
  const out: string[] = [];
  const visit = (path: string) => {
    if (out.includes(path)) return;
    const name = norm(basename(path).replace(/\.ko(\.\w+)?$/, ""));
    const entry = deps.get(name);
    // modules.dep lists a module's dependencies so that loading them last-to-first works.
    for (const dep of [...(entry?.deps ?? [])].reverse()) visit(dep);
    out.push(path);
  };
  for (const name of names) {
    const entry = deps.get(norm(name));
    if (!entry) {
      if (builtin.has(norm(name))) continue;
      throw new Error(`kernel module ${name} not found in ${modulesDir} (not a module nor built in)`);
    }
    visit(entry.path);
  }
  for (const path of out) {
    if (!existsSync(join(modulesDir, path))) throw new Error(`module file ${path} is missing from ${modulesDir}`);
    if (/\.ko\.\w+$/.test(path)) throw new Error(`compressed module ${path}: busybox insmod needs plain .ko files`);
  }
  return out;
}

function findBusybox(): string {
  for (const p of ["/bin/busybox", "/usr/bin/busybox"]) {
    if (!existsSync(p)) continue;
    const ldd = Bun.spawnSync(["ldd", p]);
    if (ldd.stdout.toString().includes("not a dynamic") || ldd.stderr.toString().includes("not a dynamic")) return p;
  }
  throw new Error("a static busybox is needed for the initramfs: apt-get install busybox-static");
}

