import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, missing, runShed, startServer, type TestServer } from "../harness/index.ts";

const COMPLETION = "/usr/share/bash-completion/bash_completion";
const noBashCompletion = missing({ commands: ["bash"] }) ?? (existsSync(COMPLETION) ? undefined : `skipped: needs ${COMPLETION} (apt package bash-completion)`);
if (noBashCompletion) console.warn(noBashCompletion);

/** Every command's help at 80 columns, `shed help CMD`, groups alone, and completion scripts that work. */
describe("help, completion and ssh-config --install (compiled CLI)", () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startServer({ config: { docker: { socket: "/nonexistent/docker.sock" } } });
    dir = mkdtempSync(join(tmpdir(), "shed-cli-help-"));
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const shed = (args: string[], env: Record<string, string> = {}) => server.shed(args, { env: { COLUMNS: "80", NO_COLOR: "1", ...env } });

  it("every command has a summary, its arguments, an example, and fits 80 columns with no colour", async () => {
    const root = await shed(["--help"]);
    expect(root.code).toBe(0);
    const names = [...root.stdout.matchAll(/^ {2}([a-z-]+) {2,}\S/gm)].map((m) => m[1]!).filter((n) => !n.startsWith("-"));
    expect(names).toEqual(expect.arrayContaining(["create", "exec", "restart", "cp", "logs", "completion", "image", "tunnels"]));
    const paths = [[], ...names.map((n) => [n])];
    for (const group of ["image", "server", "tunnels"]) {
      const g = await shed([group]);
      expect(g.code, group).toBe(0);
      expect(g.stdout, group).toContain("Commands:");
      for (const m of g.stdout.split("Commands:")[1]!.split("\n\n")[0]!.matchAll(/^ {2}([a-z-]+) {2,}/gm)) paths.push([group, m[1]!]);
    }
    for (const path of paths) {
      const r = await shed([...path, "--help"]);
      expect(r.code, path.join(" ")).toBe(0);
      expect(r.stdout, path.join(" ")).toMatch(/^Usage:\n {2}shed/m);
      expect(r.stdout, path.join(" ")).toContain("Examples:");
      expect(r.stdout, path.join(" ")).not.toContain("\x1b[");
      for (const line of r.stdout.split("\n")) expect(line.length, `${path.join(" ")}: ${line}`).toBeLessThanOrEqual(80);
      if (path.length) expect((await shed(["help", ...path])).stdout, path.join(" ")).toBe(r.stdout);
    }
    const exec = (await shed(["exec", "--help"])).stdout;
    expect(exec).toMatch(/NAME\s+Shed name/);
    expect(exec).toMatch(/-e, --env K=V\s+An environment variable for the command\s+\(repeatable\)/);
    expect(exec).toContain("SHED_TIMEOUT");
    expect(root.stdout).toMatch(/SHED_SERVER.*SHED_TOKEN/s);
  });

  it.skipIf(noBashCompletion)("bash completion: commands, flags and shed names from the server, silent when it is down", async () => {
    const script = join(dir, "shed.bash");
    const r = await shed(["completion", "bash"]);
    expect(r.code).toBe(0);
    writeFileSync(script, r.stdout.replaceAll(" shed complete", ` ${join(DIST, "shed")} complete`));
    await server.shed(["--help"]);
    const ask = (line: string, env: Record<string, string> = {}) => {
      const words = line.split(" ");
      const program = [
        `source ${COMPLETION}`,
        `source ${script}`,
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; COMP_LINE='${line}'; COMP_POINT=${line.length}`,
        `$(complete -p shed | sed -E 's/.*-F ([^ ]+).*/\\1/') shed '${words.at(-1)}' '${words.at(-2) ?? ""}'`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash expands it, not JS
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join("\n");
      const p = Bun.spawnSync(["bash", "-c", program], { env: { ...process.env, SHED_CONFIG_DIR: server.configDir, ...env }, stdout: "pipe", stderr: "pipe" });
      return p.stdout.toString().split("\n").filter(Boolean);
    };
    const registered = Bun.spawnSync(["bash", "-c", `source ${COMPLETION}; source ${script}; complete -p shed`], { stdout: "pipe" });
    expect(registered.stdout.toString()).toMatch(/complete .*-F \S+ shed/);
    expect(ask("shed res")).toEqual(expect.arrayContaining(["reset", "restart"]));
    expect(ask("shed image l")).toEqual(expect.arrayContaining(["ls", "load"]));
    expect(ask("shed delete --f")).toEqual(["--force"]);
    // Shed names come from the server: make one record exist without a backend (a state file).
    writeFileSync(
      join(server.stateDir, "sheds", "comp-one.json"),
      JSON.stringify({ name: "comp-one", backend: "docker", image: "x", state: "stopped", cpus: 1, memoryMb: 64, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() }),
    );
    await server.restart();
    expect(ask("shed start comp")).toEqual(["comp-one"]);
    const down = ask("shed start comp", { SHED_SERVER: "127.0.0.1:1" });
    expect(down).toEqual([]);
  });

  it("ssh-config --install keeps one marked block, is idempotent, never touches other lines, keeps a backup", async () => {
    const file = join(dir, "ssh_config");
    const mine = "Host mine\n  HostName example.invalid\n  User me\n";
    writeFileSync(file, mine);
    const dry = await shed(["ssh-config", "--install", "--dry-run", "--file", file]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("# >>> shed ssh-config");
    expect(readFileSync(file, "utf8")).toBe(mine);
    const once = await shed(["ssh-config", "--install", "--file", file]);
    expect(once.code, once.stderr).toBe(0);
    const installed = readFileSync(file, "utf8");
    expect(installed.endsWith(mine)).toBe(true);
    expect(readFileSync(`${file}.shed-backup`, "utf8")).toBe(mine);
    const twice = await shed(["ssh-config", "--install", "--file", file]);
    expect(twice.stdout).toContain("already up to date");
    expect(readFileSync(file, "utf8")).toBe(installed);
    expect((await shed(["ssh-config", "--uninstall", "--file", file])).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(mine);
    expect((await shed(["ssh-config", "--dry-run"])).code).toBe(2);
  });

  it("SHED_SERVER, SHED_TOKEN and -c/--config pick the server and its token", async () => {
    const cfg = join(dir, "other.yaml");
    writeFileSync(cfg, `servers:\n  other: { host: 127.0.0.1, http_port: ${server.port} }\n`);
    expect((await runShed(["-c", cfg, "server", "list", "-q"], { env: { SHED_CONFIG_DIR: dir } })).stdout).toBe("other\n");
    expect((await runShed(["server", "list", "-q"], { env: { SHED_CONFIG_DIR: dir, SHED_CONFIG: cfg } })).stdout).toBe("other\n");
    const direct = await runShed(["list", "--json"], { env: { SHED_CONFIG_DIR: dir, SHED_SERVER: `127.0.0.1:${server.port}` } });
    expect(direct.code, direct.stderr).toBe(0);
    expect(JSON.parse(direct.stdout).sheds).toBeDefined();
  });
});
