import * as v from "valibot";
import { ExecRequestSchema } from "../../agent/protocol/messages.ts";
import { SHED_API } from "../../api/endpoints/sheds.ts";
import { DEFAULT_MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES } from "../../sdk/exec.ts";
import { DEFAULT_MAX_READ_BYTES } from "../../sdk/files.ts";
import { defineTool, described, optionalField, type ToolDef, type ToolEnv } from "../tool.ts";
import { NAME } from "./sheds.ts";

/** Inside a shed: exec, files, copies, tmux sessions. Exec's fields are the agent protocol's own. */

const EXEC = ExecRequestSchema.entries;
const PATH = described(v.pipe(v.string(), v.regex(/^\/[^\0]*$/, "must be an absolute path (starting with /) without NUL")), "An absolute path in the shed");
const USER = optionalField(EXEC.user.wrapped, 'Who runs it: "shed" (default, uid 1000, passwordless sudo), "root", or another user of the shed');
const count = (max: number) => v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(max));

const ExecInput = v.pipe(
  v.object({
    name: NAME,
    argv: optionalField(EXEC.argv.wrapped, 'The program and its arguments, run as they are (no shell): ["make", "test"]. Give argv or command, not both'),
    command: optionalField(EXEC.command.wrapped, "A shell command line, run by the login shell (bash -lc): pipes, &&, globs work"),
    cwd: optionalField(EXEC.cwd.wrapped, "Working directory (default /workspace, else the user's home)"),
    env: optionalField(EXEC.env.wrapped, "Extra environment variables for this command"),
    user: USER,
    stdin: optionalField(v.string(), "Text written to the command's standard input (then closed); without it stdin is empty"),
    timeoutSeconds: optionalField(count(86_400), "Kill the command after this many seconds (default: no limit); the result says timedOut"),
    maxOutputBytes: optionalField(
      count(MAX_OUTPUT_BYTES),
      `How much of stdout and of stderr each to return (default ${DEFAULT_MAX_OUTPUT_BYTES}, at most ${MAX_OUTPUT_BYTES}); past it the first and last halves are kept and truncated is true`,
    ),
  }),
  v.check((a) => (a.argv === undefined) !== (a.command === undefined), "give exactly one of argv (a program and its arguments) and command (a shell line)"),
);

/** The copy tools: "this machine" is the agent's only where `shed mcp` runs. */
const LOCAL_ONLY = {
  offered: (env: ToolEnv) => env.local,
  notOffered: 'over /api/mcp "this machine" would be the server\'s host: use `shed mcp` where the files are',
};

export const SHELL_TOOLS: ToolDef[] = [
  defineTool({
    name: "exec",
    title: "Run a command in a shed",
    description:
      "Runs a command in a shed and waits for it: returns exitCode, stdout and stderr (each cut to maxOutputBytes, default " +
      `${DEFAULT_MAX_OUTPUT_BYTES} bytes, keeping its start and end, with truncated: true and the full byte count), timedOut and durationMs. ` +
      "A non-zero exitCode is a normal result, not an error. Cancelling the call kills the command in the shed. " +
      "For long-lived processes (servers, agents) use a tmux session instead (shed attach).",
    input: () => ExecInput,
    annotations: { openWorldHint: true },
    run: async ({ client, signal, progress }, args) => {
      const { name, stdin, timeoutSeconds, maxOutputBytes, ...req } = args;
      let said = 0;
      const r = await client.exec(name, {
        ...req,
        stdin,
        timeoutSeconds,
        maxOutputBytes,
        signal,
        onOutput: (bytes) => {
          // About one notification per 64 KiB of output.
          if (bytes - said < 65_536) return;
          said = bytes;
          progress(`${bytes} bytes of output so far`);
        },
      });
      return {
        exitCode: r.exitCode,
        ...(r.signal ? { signal: r.signal } : {}),
        stdout: r.stdout.text,
        stderr: r.stderr.text,
        stdoutBytes: r.stdout.bytes,
        stderrBytes: r.stderr.bytes,
        stdoutTruncated: r.stdout.truncated,
        stderrTruncated: r.stderr.truncated,
        timedOut: r.timedOut,
        durationMs: r.durationMs,
      };
    },
  }),
  defineTool({
    name: "read_file",
    title: "Read a file in a shed",
    description: `Reads a file in a shed as text (utf8, default) or base64, at most maxBytes (default ${DEFAULT_MAX_READ_BYTES}); returns content, size and truncated.`,
    input: () =>
      v.object({
        name: NAME,
        path: PATH,
        encoding: optionalField(v.picklist(["utf8", "base64"]), "utf8 (default) or base64 for binary files"),
        maxBytes: optionalField(count(MAX_OUTPUT_BYTES), `The most bytes returned (default ${DEFAULT_MAX_READ_BYTES})`),
        user: USER,
      }),
    annotations: { readOnlyHint: true },
    run: async ({ client }, { name, path, encoding, maxBytes, user }) => {
      const r = await client.readFile(name, path, { maxBytes, user });
      const content = encoding === "base64" ? Buffer.from(r.content).toString("base64") : new TextDecoder().decode(r.content);
      return { path, size: r.size, truncated: r.truncated, encoding: encoding ?? "utf8", content };
    },
  }),
  defineTool({
    name: "write_file",
    title: "Write a file in a shed",
    description: "Writes (or appends to) a file in a shed, making its directory; the file belongs to user (default shed).",
    input: () =>
      v.object({
        name: NAME,
        path: PATH,
        content: described(v.string(), "What to write"),
        encoding: optionalField(v.picklist(["utf8", "base64"]), "How content is given: utf8 (default) or base64"),
        append: optionalField(v.boolean(), "Append instead of replacing"),
        mode: optionalField(v.pipe(v.string(), v.regex(/^[0-7]{3,4}$/, "octal permission bits such as 644 or 0755")), "Permission bits, octal: 644, 755"),
        user: USER,
      }),
    run: ({ client }, { name, path, content, encoding, append, mode, user }) =>
      client.writeFile(name, path, encoding === "base64" ? Buffer.from(content, "base64") : content, { append, mode, user }),
  }),
  defineTool({
    name: "list_directory",
    title: "List a directory in a shed",
    description: "The entries of a directory in a shed: name, type (file, directory, symlink, other), size, mode and modification time.",
    input: () => v.object({ name: NAME, path: PATH, user: USER }),
    annotations: { readOnlyHint: true },
    run: async ({ client }, { name, path, user }) => ({ path, entries: await client.listDir(name, path, { user }) }),
  }),
  defineTool({
    name: "copy_into_shed",
    title: "Copy into a shed",
    description: "Copies a file or directory of this machine (where this MCP server runs) into a shed, as `shed cp`: into an existing directory under its own name, else to the path given.",
    input: () => v.object({ name: NAME, localPath: described(v.pipe(v.string(), v.minLength(1)), "A file or directory on this machine"), shedPath: PATH }),
    ...LOCAL_ONLY,
    run: async ({ client }, { name, localPath, shedPath }) => {
      await client.copyIn(name, localPath, shedPath);
      return { copied: true, from: localPath, to: `${name}:${shedPath}` };
    },
  }),
  defineTool({
    name: "copy_out_of_shed",
    title: "Copy out of a shed",
    description: "Copies a file or directory of a shed to this machine (where this MCP server runs): into an existing directory under its own name, else to the path given.",
    input: () => v.object({ name: NAME, shedPath: PATH, localPath: described(v.pipe(v.string(), v.minLength(1)), "Where on this machine") }),
    ...LOCAL_ONLY,
    run: async ({ client }, { name, localPath, shedPath }) => {
      await client.copyOut(name, shedPath, localPath);
      return { copied: true, from: `${name}:${shedPath}`, to: localPath };
    },
  }),
  defineTool({
    name: "list_sessions",
    title: "List tmux sessions",
    description: "The shed's tmux sessions (persistent terminals, made by `shed attach`): name, windows, attached, created, and the command in the active pane.",
    input: () => v.object({ name: NAME }),
    annotations: { readOnlyHint: true },
    run: async ({ client }, { name }) => ({ name, sessions: await client.sessions(name) }),
  }),
  defineTool({
    name: "kill_session",
    title: "Kill a tmux session",
    description: "Ends one tmux session of a shed and what runs in it.",
    input: () => v.object({ name: NAME, session: described(SHED_API.killSession.params.session, "The session's name, as list_sessions shows it") }),
    annotations: { destructiveHint: true },
    run: async ({ client }, { name, session }) => {
      await client.killSession(name, session);
      return { name, session, killed: true };
    },
  }),
];
