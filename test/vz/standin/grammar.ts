/**
 * vfkit's command line, as vfkit (cobra/pflag flags, its own device and bootloader option
 * grammar) reads it: the stand-in's parser. Written from vfkit's documented flags and option
 * names (doc/usage.md, pkg/cmdline, pkg/config); every message a refusal prints is vfkit's
 * own, so a test sees what a Mac would print. Stricter where the stand-in cannot be the real
 * thing: positional arguments and devices it cannot emulate are refused too.
 */

export class VfkitUsageError extends Error {}

export interface LinuxBoot {
  kernel: string;
  initrd: string;
  cmdline: string;
}

export type Device =
  | { kind: "virtio-blk"; path: string; readonly: boolean; deviceId?: string; type?: string }
  | { kind: "virtio-fs"; sharedDir: string; mountTag: string }
  | { kind: "virtio-net"; nat: boolean; mac?: string; unixSocketPath?: string; fd?: number }
  | { kind: "virtio-rng" }
  | { kind: "virtio-serial"; logFilePath?: string; stdio: boolean; pty: boolean }
  | { kind: "virtio-vsock"; port: number; socketURL: string; listen: boolean }
  | { kind: "virtio-balloon" };

export interface VfkitConfig {
  cpus: number;
  memoryMiB: number;
  boot: LinuxBoot | { efi: string; create: boolean };
  devices: Device[];
  restfulURI: string;
  pidFile?: string;
  logLevel?: string;
  timesync?: string;
  nested: boolean;
  gui: boolean;
}

type FlagKind = "string" | "uint" | "bool" | "array" | "slice";
interface Flag {
  name: string;
  short?: string;
  kind: FlagKind;
}

/** vfkit's flags (pkg/cmdline AddFlags), plus cobra's own --help and --version. */
const FLAGS: Flag[] = [
  { name: "kernel", short: "k", kind: "string" },
  { name: "kernel-cmdline", short: "C", kind: "string" },
  { name: "initrd", short: "i", kind: "string" },
  { name: "bootloader", short: "b", kind: "slice" },
  { name: "gui", kind: "bool" },
  { name: "cpus", short: "c", kind: "uint" },
  { name: "memory", short: "m", kind: "uint" },
  { name: "timesync", short: "t", kind: "string" },
  { name: "device", short: "d", kind: "array" },
  { name: "log-level", kind: "string" },
  { name: "restful-uri", kind: "string" },
  { name: "ignition", kind: "string" },
  { name: "cloud-init", kind: "slice" },
  { name: "nested", short: "n", kind: "bool" },
  { name: "pidfile", kind: "string" },
  { name: "help", short: "h", kind: "bool" },
  { name: "version", short: "v", kind: "bool" },
];

/** macOS: sun_path holds 104 bytes, the last one the terminating NUL. */
export const MAX_SOCKET_PATH = 103;

type Values = Map<string, string[]>;

/** pflag's parse: --name value, --name=value, -x value, -xvalue, -x=value; `--` ends flags. */
function parseFlags(argv: string[]): { values: Values; positional: string[] } {
  const values: Values = new Map();
  const positional: string[] = [];
  const set = (flag: Flag, value: string, shown: string) => {
    if (flag.kind === "uint" && !/^\d+$/.test(value)) {
      const usage = flag.short ? `-${flag.short}, --${flag.name}` : `--${flag.name}`;
      throw new VfkitUsageError(`invalid argument "${value}" for "${usage}" flag: strconv.ParseUint: parsing "${value}": invalid syntax`);
    }
    if (flag.kind === "bool" && !["true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False"].includes(value)) {
      throw new VfkitUsageError(`invalid argument "${value}" for "${shown}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
    }
    const list = values.get(flag.name) ?? [];
    list.push(value);
    values.set(flag.name, list);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const flag = FLAGS.find((f) => f.name === name);
      if (!flag) throw new VfkitUsageError(`unknown flag: --${name}`);
      if (eq >= 0) set(flag, arg.slice(eq + 1), `--${name}`);
      else if (flag.kind === "bool") set(flag, "true", `--${name}`);
      else if (i + 1 < argv.length) set(flag, argv[++i]!, `--${name}`);
      else throw new VfkitUsageError(`flag needs an argument: --${name}`);
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const letter = arg[1]!;
      const flag = FLAGS.find((f) => f.short === letter);
      if (!flag) throw new VfkitUsageError(`unknown shorthand flag: '${letter}' in ${arg}`);
      const rest = arg.slice(2);
      if (flag.kind === "bool") {
        if (rest.startsWith("=")) set(flag, rest.slice(1), `-${letter}`);
        else if (rest) throw new VfkitUsageError(`the stand-in does not combine shorthand flags: ${arg}`);
        else set(flag, "true", `-${letter}`);
      } else if (rest) set(flag, rest.startsWith("=") ? rest.slice(1) : rest, `-${letter}`);
      else if (i + 1 < argv.length) set(flag, argv[++i]!, `-${letter}`);
      else throw new VfkitUsageError(`flag needs an argument: '${letter}' in -${letter}`);
      continue;
    }
    positional.push(arg);
  }
  return { values, positional };
}

/** vfkit's stringSlice (pkg/cmdline): commas split, except inside double quotes. */
export function splitSlice(value: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  const push = () => out.push(trimQuotes(cur));
  for (const c of value) {
    if (quoted) {
      if (c === '"') quoted = false;
      cur += c;
      continue;
    }
    if (c === ",") {
      push();
      cur = "";
      continue;
    }
    if (c === '"') quoted = true;
    cur += c;
  }
  if (quoted) throw new VfkitUsageError(`invalid argument "${value}" for "-b, --bootloader" flag: mismatched "`);
  if (out.length || cur.length) push();
  return out;
}

function trimQuotes(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.replace(/^"+|"+$/g, "") : s;
}

interface Option {
  key: string;
  value: string;
  /** Whether `=` was there (`nat` vs `nat=`). */
  hasValue: boolean;
}

function options(parts: string[]): Option[] {
  return parts
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf("=");
      return eq < 0 ? { key: p, value: "", hasValue: false } : { key: p.slice(0, eq), value: p.slice(eq + 1), hasValue: true };
    });
}

function linuxBoot(parts: string[]): LinuxBoot {
  const boot: LinuxBoot = { kernel: "", initrd: "", cmdline: "" };
  for (const o of options(parts)) {
    if (o.key === "kernel") boot.kernel = o.value;
    else if (o.key === "initrd") boot.initrd = o.value;
    else if (o.key === "cmdline") boot.cmdline = trimQuotes(o.value);
    else throw new VfkitUsageError(`unknown option for Linux bootloaders: ${o.key}`);
  }
  return boot;
}

function bootloader(values: Values): VfkitConfig["boot"] {
  const legacy = ["kernel", "initrd", "kernel-cmdline"].filter((f) => values.has(f));
  if (legacy.length && values.has("bootloader")) {
    const set = ["bootloader", legacy[0]!].sort();
    throw new VfkitUsageError(`if any flags in the group [${legacy[0]} bootloader] are set none of the others can be; [${set.join(" ")}] were all set`);
  }
  if (legacy.length) {
    const missing = ["kernel", "initrd", "kernel-cmdline"].filter((f) => !values.has(f));
    if (missing.length) {
      throw new VfkitUsageError(`if any flags in the group [kernel initrd kernel-cmdline] are set they must all be set; missing [${missing.join(" ")}]`);
    }
    return { kernel: last(values, "kernel")!, initrd: last(values, "initrd")!, cmdline: last(values, "kernel-cmdline")! };
  }
  const slice = (values.get("bootloader") ?? []).flatMap(splitSlice);
  if (!slice.length) throw new VfkitUsageError("empty option list in --bootloader command line argument");
  const [type, ...rest] = slice;
  if (type === "linux") return linuxBoot(rest);
  if (type === "efi") {
    let store = "";
    let create = false;
    for (const o of options(rest)) {
      if (o.key === "variable-store") store = o.value;
      else if (o.key === "create") {
        if (o.value) throw new VfkitUsageError(`unexpected value for EFI bootloader 'create' option: ${o.value}`);
        create = true;
      } else throw new VfkitUsageError(`unknown option for EFI bootloaders: ${o.key}`);
    }
    return { efi: store, create };
  }
  if (type === "macos") throw new VfkitUsageError("the stand-in cannot boot macOS guests (bootloader macos)");
  throw new VfkitUsageError(`unknown bootloader type: ${type}`);
}

const MAC = /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;

/** One --device value, read as pkg/config's deviceFromCmdLine does (plain commas split). */
export function parseDevice(spec: string): Device {
  const [kind, ...rest] = spec.split(",");
  const opts = options(rest);
  const unknown = (what: string, key: string) => new VfkitUsageError(`unknown option for ${what}: ${key}`);
  switch (kind) {
    case "virtio-blk": {
      const dev: Device & { kind: "virtio-blk" } = { kind, path: "", readonly: false };
      for (const o of opts) {
        if (o.key === "deviceId") dev.deviceId = o.value;
        else if (o.key === "path") dev.path = o.value;
        else if (o.key === "type") {
          if (!["", "image", "dev"].includes(o.value)) throw new VfkitUsageError(`unexpected value for disk 'type' option: ${o.value}`);
          dev.type = o.value;
        } else if (o.key === "readonly") {
          if (o.value) throw new VfkitUsageError(`unexpected value for virtio-blk 'readonly' option: ${o.value}`);
          dev.readonly = true;
        } else throw unknown("virtio-blk devices", o.key);
      }
      return dev;
    }
    case "virtio-fs": {
      const dev: Device & { kind: "virtio-fs" } = { kind, sharedDir: "", mountTag: "" };
      for (const o of opts) {
        if (o.key === "sharedDir") dev.sharedDir = o.value;
        else if (o.key === "mountTag") dev.mountTag = o.value;
        else throw unknown("virtio-fs devices", o.key);
      }
      return dev;
    }
    case "virtio-net": {
      const dev: Device & { kind: "virtio-net" } = { kind, nat: false };
      for (const o of opts) {
        if (o.key === "nat") {
          if (o.value) throw new VfkitUsageError(`unexpected value for virtio-net 'nat' option: ${o.value}`);
          dev.nat = true;
        } else if (o.key === "mac") {
          if (!MAC.test(o.value)) throw new VfkitUsageError(`address ${o.value}: invalid MAC address`);
          dev.mac = o.value.toLowerCase().replaceAll("-", ":");
        } else if (o.key === "unixSocketPath") dev.unixSocketPath = o.value;
        else if (o.key === "fd") {
          if (!/^\d+$/.test(o.value)) throw new VfkitUsageError(`strconv.Atoi: parsing "${o.value}": invalid syntax`);
          dev.fd = Number(o.value);
        } else if (["type", "path", "vfkitMagic", "offloading"].includes(o.key)) {
          throw new VfkitUsageError(`the stand-in does not emulate virtio-net option ${o.key}`);
        } else throw unknown("virtio-net devices", o.key);
      }
      const ways = [dev.nat && "nat", dev.fd !== undefined && "fd", dev.unixSocketPath && "unixSocketPath"].filter(Boolean);
      if (ways.length > 1) throw new VfkitUsageError(`'${ways[0]}' and '${ways[1]}' cannot be set at the same time`);
      if (!ways.length) throw new VfkitUsageError("one of 'nat' or 'fd' or 'unixSocketPath' must be set");
      if (!dev.nat) throw new VfkitUsageError("the stand-in emulates only virtio-net,nat");
      return dev;
    }
    case "virtio-rng":
      if (opts.length) throw new VfkitUsageError(`unknown options for virtio-rng devices: [${opts.map((o) => `{${o.key} ${o.value}}`).join(" ")}]`);
      return { kind };
    case "virtio-balloon":
      if (opts.length) throw new VfkitUsageError(`unknown options for virtio-balloon devices: [${opts.map((o) => `{${o.key} ${o.value}}`).join(" ")}]`);
      return { kind };
    case "virtio-serial": {
      const dev: Device & { kind: "virtio-serial" } = { kind, stdio: false, pty: false };
      for (const o of opts) {
        if (o.key === "logFilePath") dev.logFilePath = o.value;
        else if (o.key === "stdio") {
          if (o.value) throw new VfkitUsageError(`unexpected value for virtio-serial 'stdio' option: ${o.value}`);
          dev.stdio = true;
        } else if (o.key === "pty") dev.pty = true;
        else throw unknown("virtio-serial devices", o.key);
      }
      if (dev.logFilePath && dev.stdio) throw new VfkitUsageError("'logFilePath' and 'stdio' cannot be set at the same time");
      if (dev.logFilePath && dev.pty) throw new VfkitUsageError("'logFilePath' and 'pty' cannot be set at the same time");
      if (dev.stdio && dev.pty) throw new VfkitUsageError("'stdio' and 'pty' cannot be set at the same time");
      if (!dev.logFilePath && !dev.stdio && !dev.pty) throw new VfkitUsageError("one of 'logFilePath', 'stdio' or 'pty' must be set");
      if (!dev.logFilePath) throw new VfkitUsageError("the stand-in emulates only virtio-serial,logFilePath=");
      return dev;
    }
    case "virtio-vsock": {
      // listen is the default (kept for vfkit's backwards compatibility).
      const dev: Device & { kind: "virtio-vsock" } = { kind, port: 0, socketURL: "", listen: true };
      for (const o of opts) {
        if (o.key === "socketURL") dev.socketURL = o.value;
        else if (o.key === "port") {
          if (!/^\d+$/.test(o.value) || Number(o.value) > 0xffffffff) {
            throw new VfkitUsageError(`strconv.ParseUint: parsing "${o.value}": ${/^\d+$/.test(o.value) ? "value out of range" : "invalid syntax"}`);
          }
          dev.port = Number(o.value);
        } else if (o.key === "listen") dev.listen = true;
        else if (o.key === "connect") dev.listen = false;
        else throw unknown("virtio-vsock devices", o.key);
      }
      return dev;
    }
    case "rosetta":
    case "nvme":
    case "usb-mass-storage":
    case "virtio-input":
    case "virtio-gpu":
    case "nbd":
      throw new VfkitUsageError(`the stand-in does not emulate ${kind} devices`);
    default:
      throw new VfkitUsageError(`unknown device type: ${kind}`);
  }
}

function last(values: Values, name: string): string | undefined {
  return values.get(name)?.at(-1);
}

/** argv (without the program name) -> what vfkit would run, or the error vfkit would print. */
export function parseVfkitArgs(argv: string[]): VfkitConfig | "help" | "version" {
  const { values, positional } = parseFlags(argv);
  if (values.has("help")) return "help";
  if (values.has("version")) return "version";
  if (positional.length) throw new VfkitUsageError(`the stand-in takes no positional arguments: ${positional.join(" ")}`);
  const boot = bootloader(values);
  const logLevel = last(values, "log-level");
  if (logLevel !== undefined && !["error", "debug", "info"].includes(logLevel)) throw new VfkitUsageError(`unknown log level: ${logLevel}`);
  if (values.has("ignition") || values.has("cloud-init")) throw new VfkitUsageError("the stand-in does not emulate --ignition or --cloud-init");
  const restfulURI = last(values, "restful-uri") ?? "none://";
  checkRestfulURI(restfulURI);
  return {
    cpus: Number(last(values, "cpus") ?? 1),
    memoryMiB: Number(last(values, "memory") ?? 512),
    boot,
    devices: (values.get("device") ?? []).map(parseDevice),
    restfulURI,
    pidFile: last(values, "pidfile"),
    logLevel,
    timesync: last(values, "timesync"),
    nested: last(values, "nested") === "true",
    gui: last(values, "gui") === "true",
  };
}

/** pkg/rest's parseRestfulURI: none://, unix:///path (no host, at most macOS's socket length), tcp://host:port. */
export function checkRestfulURI(uri: string): void {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i.exec(uri);
  if (!m) throw new VfkitUsageError(`parse "${uri}": invalid URI for request`);
  const [, scheme, host, path = ""] = m;
  if (scheme === "none") return;
  if (scheme === "unix") {
    if (!path) throw new VfkitUsageError("invalid unix uri: missing path");
    if (host) throw new VfkitUsageError("invalid unix uri: host is forbidden");
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw new VfkitUsageError("invalid unix uri: socket path length exceeds macOS limits");
    return;
  }
  if (scheme === "tcp" || scheme === "http") throw new VfkitUsageError("the stand-in serves REST only on unix:// (a test listens nowhere else)");
  throw new VfkitUsageError(`invalid scheme ${scheme}`);
}
