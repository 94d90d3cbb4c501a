import { existsSync, statSync } from "node:fs";
import { constants } from "node:os";
import type { ExecProcess, ExecRequest, ExitStatus } from "./protocol/api.ts";
import { loginEnv } from "./login-env.ts";
import { type GuestUser, lookupUser, supplementaryGroups } from "./users.ts";
import { pushStream } from "./push-stream.ts";

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const SIGNALS = constants.signals as Record<string, number>;

export interface ExecDefaults {
  /** Who runs commands that name no user ("shed", or "root" with `--user root`). */
  user: string;
}

/** Runs one exec request in this machine: a process with pipes, or on a new PTY. */
export function spawnExec(req: ExecRequest, defaults: ExecDefaults): ExecProcess {
  const user = lookupUser(req.user ?? defaults.user);
  const ids = process.getuid?.() === 0 ? { uid: user.uid, gid: user.gid } : {};
  const base: Record<string, string> = {
    PATH: DEFAULT_PATH,
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    SHELL: user.shell,
  };
  const line = commandLine(req, user, base, ids);
  const { env } = line;
  const { argv, spawnIds } = withGroups(line.argv, user, ids);
  Object.assign(env, req.tty ? { TERM: req.tty.term ?? "xterm-256color" } : {}, req.env);
  const cwd = req.cwd ?? defaultDir(user);
  if (req.cwd !== undefined && !isDir(req.cwd)) {
    return failedStart(argv[0]!, `cannot change to ${req.cwd}: no such directory`, 1);
  }
  try {
    return req.tty ? spawnTty(argv, env, cwd, spawnIds, req.tty) : spawnPiped(argv, env, cwd, spawnIds);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === "ENOENT"
      ? failedStart(argv[0]!, "command not found", 127)
      : failedStart(argv[0]!, e.message ?? String(e), 126);
  }
}

/**
 * A command string runs in the login shell. An argv runs with the login environment
 * (tools provisioning installed are on PATH): captured once per user and reused, else
 * through the shell as `exec "$@"` so every argument still arrives exactly. Without any
 * shell (distroless) argv runs directly.
 */
function commandLine(
  req: ExecRequest,
  user: GuestUser,
  base: Record<string, string>,
  ids: Ids,
): { argv: string[]; env: Record<string, string> } {
  const shell = loginShell();
  if (req.command !== undefined) return { argv: [shell ?? "/bin/sh", "-lc", req.command], env: { ...base } };
  const argv = req.argv!;
  if (!shell || req.login === false) return { argv, env: { ...base } };
  const login = loginEnv(user, shell, base, ids);
  if (login) return { argv, env: { ...login } };
  return { argv: [shell, "-lc", 'exec "$@"', argv[0]!, ...argv], env: { ...base } };
}

/**
 * Bun.spawn sets uid and gid but not supplementary groups, so a user in the `docker` or
 * `sudo` group would lose them: when there are any, setpriv (util-linux) switches user with
 * the groups; images without it keep the uid/gid switch alone.
 */
function withGroups(argv: string[], user: GuestUser, ids: Ids): { argv: string[]; spawnIds: Ids } {
  if (ids.uid === undefined || ids.uid === 0) return { argv, spawnIds: ids };
  const groups = supplementaryGroups(user);
  const setpriv = groups.length ? ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p)) : undefined;
  if (!setpriv) return { argv, spawnIds: ids };
  return {
    argv: [setpriv, `--reuid=${ids.uid}`, `--regid=${ids.gid}`, `--groups=${groups.join(",")}`, "--", ...argv],
    spawnIds: {},
  };
}

/** bash when the image has it (as shed always did), else the POSIX shell. */
function loginShell(): string | undefined {
  return ["/bin/bash", "/bin/sh"].find((p) => existsSync(p));
}

function defaultDir(user: GuestUser): string {
  return ["/workspace", user.home].find(isDir) ?? "/";
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

type Ids = { uid?: number; gid?: number };

function spawnPiped(argv: string[], env: Record<string, string>, cwd: string, ids: Ids): ExecProcess {
  const proc = Bun.spawn(argv, {
    cwd,
    env,
    ...ids,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    // Own process group, so a signal reaches the command's children too.
    detached: true,
  });
  const sink = proc.stdin;
  // Input for a command that has stopped reading (it exited, or closed its stdin) is dropped,
  // as docker exec drops it: EPIPE is its end, not an error of the exec.
  let gone = false;
  const settle = async (op: () => unknown) => {
    if (gone) return;
    try {
      await op();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EPIPE") throw err;
      gone = true;
    }
  };
  const stdin = new WritableStream<Uint8Array>({
    write: (chunk) =>
      settle(async () => {
        // write() answers a promise while the pipe is full: its EPIPE must be caught too.
        await sink.write(chunk);
        await sink.flush();
      }),
    close: () => settle(() => sink.end()),
    abort: () => settle(() => sink.end()),
  });
  return {
    stdin,
    stdout: proc.stdout,
    stderr: proc.stderr,
    resize: () => {},
    signal: (name) => signalGroup(proc.pid, name, () => proc.kill(name as NodeJS.Signals)),
    exit: proc.exited.then(() => exitStatus(proc.exitCode, proc.signalCode)),
  };
}

function spawnTty(
  argv: string[],
  env: Record<string, string>,
  cwd: string,
  ids: Ids,
  tty: { rows: number; cols: number },
): ExecProcess {
  const out = pushStream();
  const proc = Bun.spawn(argv, {
    cwd,
    env,
    ...ids,
    terminal: {
      rows: tty.rows,
      cols: tty.cols,
      data: (_term: unknown, chunk: Uint8Array) => out.push(new Uint8Array(chunk)),
    },
  } as Parameters<typeof Bun.spawn>[1]);
  const terminal = (proc as unknown as { terminal: PtyHandle }).terminal;
  const stdin = new WritableStream<Uint8Array>({
    write: (chunk) => {
      terminal.write(chunk);
    },
    // EOF on a terminal is ^D, which the program reads as end of input in canonical mode.
    close: () => {
      terminal.write(new Uint8Array([4]));
    },
  });
  const exit = proc.exited.then(async () => {
    // Let the last output the PTY holds reach us before the stream ends.
    await Bun.sleep(5);
    out.end();
    terminal.close?.();
    return exitStatus(proc.exitCode, proc.signalCode);
  });
  return {
    stdin,
    stdout: out.readable,
    stderr: emptyStream(),
    resize: (rows, cols) => terminal.resize(cols, rows),
    signal: (name) => signalGroup(proc.pid, name, () => proc.kill(name as NodeJS.Signals)),
    exit,
  };
}

interface PtyHandle {
  write(data: Uint8Array | string): void;
  resize(cols: number, rows: number): void;
  close?(): void;
}

function signalGroup(pid: number, name: string, fallback: () => void): void {
  if (!(name in SIGNALS)) return;
  try {
    process.kill(-pid, name as NodeJS.Signals);
  } catch {
    try {
      fallback();
    } catch {}
  }
}

/** The shell's convention: a signal death is 128+N. */
export function exitStatus(code: number | null, signal: string | number | null): ExitStatus {
  if (typeof signal === "number") signal = Object.keys(SIGNALS).find((k) => SIGNALS[k] === signal) ?? `SIG${signal}`;
  if (signal) return { code: 128 + (SIGNALS[signal] ?? 0), signal };
  return { code: code ?? 0 };
}

/** A program that could not start reads like a shell's answer: 127 not found, 126 not runnable. */
function failedStart(program: string, why: string, code: number): ExecProcess {
  const message = `shed: ${program}: ${why}\n`;
  return {
    stdin: new WritableStream(),
    stdout: emptyStream(),
    stderr: new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(message));
        c.close();
      },
    }),
    resize: () => {},
    signal: () => {},
    exit: Promise.resolve({ code }),
  };
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}
