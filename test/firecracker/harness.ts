import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildImage, DEFAULT_CACHE } from "../../guest/build/build.ts";
import { firecrackerPid as runningFirecracker } from "../../src/backends/firecracker/launch.ts";
import type { TestServer } from "../harness/index.ts";
import { agentPath, baseImage } from "../qemu/guest-image.ts";
import type { LoggedRequest } from "./standin/api.ts";

const CACHE = process.env.SHED_TEST_CACHE ?? "/var/cache/shed-test";

/**
 * The kernel the stand-in boots: SHED_FC_KERNEL, else `make kernel-fc`'s dist/vmlinux-fc when
 * it was built (CI builds it), else Debian's from the base image (its bzImage's xz payload
 * unpacked to the ELF vmlinux, which has the PVH entry QEMU boots), cached by its hash.
 */
export async function testVmlinux(): Promise<string> {
  if (process.env.SHED_FC_KERNEL) return process.env.SHED_FC_KERNEL;
  const built = join(import.meta.dirname, "../../dist/vmlinux-fc");
  if (existsSync(built)) return built;
  const image = await buildImage({ recipe: join(import.meta.dirname, "../../guest/base"), agentPath: agentPath(), cacheDir: process.env.SHED_IMAGE_CACHE ?? DEFAULT_CACHE, ref: "shed/base:test" });
  const shedLayer = image.layers[image.layers.length - 1]!;
  const vmlinuz = Bun.spawnSync(["tar", "-xOf", shedLayer, "boot/shed/vmlinuz"], { stdout: "pipe", stderr: "pipe", maxBuffer: 64 << 20 }).stdout;
  if (!vmlinuz.length) throw new Error(`no boot/shed/vmlinuz in ${shedLayer}`);
  const hash = new Bun.CryptoHasher("sha256").update(vmlinuz).digest("hex").slice(0, 16);
  const out = join(CACHE, `fc-vmlinux-${hash}`);
  if (existsSync(out)) return out;
  const at = vmlinuz.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (at < 0) throw new Error("the base image's kernel is not xz-compressed: cannot unpack its vmlinux");
  const xz = Bun.spawnSync(["xz", "-dc"], { stdin: vmlinuz.subarray(at), stdout: "pipe", stderr: "pipe", maxBuffer: 256 << 20 });
  // xz reports trailing garbage after the payload: what it unpacked before is the kernel.
  const elf = xz.stdout;
  if (!elf.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) throw new Error(`unpacking the vmlinux failed: ${xz.stderr.toString()}`);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(`${out}.tmp`, elf);
  renameSync(`${out}.tmp`, out);
  return out;
}

/**
 * The server config's firecracker section the stand-in tests start from: `binary` (the
 * stand-in, or the jailer's), the test kernel, the base image as `base`, a one-vCPU guest
 * (two cores are shared by every VM test) and TCG's slow boots; `extra` adds or overrides keys.
 */
export async function standinSection(binary: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    binary,
    kernel_path: await testVmlinux(),
    default_cpus: 1,
    default_memory_mb: 768,
    stop_timeout: 90,
    start_timeout: 600,
    image_aliases: { base: (await baseImage()).ref },
    ...extra,
  };
}

/** The stand-in as a `firecracker` executable for firecracker.binary, logging requests under `logDir`. */
export function standinBinary(dir: string, logDir: string): string {
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, "firecracker");
  const main = join(import.meta.dirname, "standin/main.ts");
  writeFileSync(bin, `#!/bin/sh\nexport SHED_FC_STANDIN_LOG_DIR='${logDir}'\nexec '${process.execPath}' '${main}' "$@"\n`);
  chmodSync(bin, 0o755);
  return bin;
}

/** The jailer stand-in (standin/jailer.ts) as a `jailer` executable for firecracker.jailer_binary. */
export function standinJailer(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, "jailer");
  const main = join(import.meta.dirname, "standin/jailer.ts");
  writeFileSync(bin, `#!/bin/sh\nexec '${process.execPath}' '${main}' "$@"\n`);
  chmodSync(bin, 0o755);
  return bin;
}

/** The request log of the Firecracker with `--id id` (a shed's is shed-<name>). */
export function requestLog(logDir: string, id: string): LoggedRequest[] {
  const file = join(logDir, `${id}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LoggedRequest);
}

export function instanceDir(server: TestServer, name: string): string {
  return join(server.stateDir, "firecracker", "instances", name);
}

/** The pid of a shed's Firecracker (stand-in) process, when it runs. */
export function firecrackerPid(server: TestServer, name: string): number | undefined {
  const dir = instanceDir(server, name);
  const meta = join(dir, "instance.json");
  if (!existsSync(meta)) return undefined;
  return runningFirecracker((JSON.parse(readFileSync(meta, "utf8")) as { data: Parameters<typeof runningFirecracker>[0] }).data);
}
