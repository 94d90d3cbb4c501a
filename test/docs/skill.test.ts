import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, DIST, ensureTestImage, missing, sh, startServer, type TestServer } from "../harness/index.ts";

const SKILL = resolve(import.meta.dirname, "../../docs/agents/shed.md");
const skip = missing({ docker: true, commands: ["tmux", "git", "bash"] });

/** The skill's frontmatter and every command line of its sh blocks, in order. */
function readSkill(): { front: Record<string, string>; commands: string[] } {
  const text = readFileSync(SKILL, "utf8");
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(text);
  const front = Object.fromEntries((fm?.[1] ?? "").split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
  const commands = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split("\n").filter((l) => l.trim()));
  return { front, commands };
}

/**
 * docs/agents/shed.md is kept true: every command it shows runs against a real server and a
 * real Docker shed, in the order shown, and exits 0. Two are adapted to this machine, and
 * only in their values: `--repo owner/repo` clones a local bare repository (mounted in the
 * shed: no network here) and `shed attach` runs on a terminal (an outer tmux session).
 */
describe.skipIf(skip)("the agent skill (docs/agents/shed.md) against a real server", () => {
  let server: TestServer;
  let dir: string;
  const { front, commands } = readSkill();

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    dir = mkdtempSync(join(tmpdir(), "shed-skill-"));
    for (const d of ["bin", "home", "work"]) mkdirSync(join(dir, d));
    symlinkSync(join(DIST, "shed"), join(dir, "bin/shed"));
    writeFileSync(join(dir, "work/notes.txt"), "notes\n");
    // The repository the skill's --repo clones: a bare one the shed user may read.
    sh(`git init -q -b main ${dir}/src && git -C ${dir}/src -c user.email=t@t -c user.name=t commit -q --allow-empty -m "the first commit"`);
    sh(`git clone -q --bare ${dir}/src ${dir}/src.git && chown -R 1000:1000 ${dir}/src.git`);
    chmodSync(dir, 0o755);
    server = await startServer({ config: { docker: { default_image: image } } });
    // What `shed sync` copies: the user's git settings, as a sync.yaml of theirs would say.
    writeFileSync(join(dir, "home/.gitconfig"), "[user]\n\tname = skill test\n");
    writeFileSync(
      join(server.configDir, "sync.yaml"),
      "features:\n  git:\n    paths: [{ source: ~/.gitconfig, target: ~/.gitconfig }]\nprofiles:\n  default: { features: [git] }\n",
    );
  });
  afterAll(async () => {
    sh("tmux kill-session -t shed-skill-attach", { allowFail: true });
    await server?.stop();
    cleanupDocker();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("has the frontmatter coding agents load: name and description", () => {
    expect(front.name).toBe("shed");
    expect(front.description!.length).toBeGreaterThan(40);
    expect(commands.length).toBeGreaterThan(15);
    expect(commands.every((c) => /^(echo hello \| )?shed /.test(c)), commands.join("\n")).toBe(true);
  });

  it("every command it shows runs and exits 0", async () => {
    const env = { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, HOME: join(dir, "home"), SHED_CONFIG_DIR: server.configDir, SSH_AUTH_SOCK: "" };
    const run = async (line: string) => {
      const p = Bun.spawn(["bash", "-c", line], { cwd: join(dir, "work"), env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { stdout, stderr, code };
    };
    let ran = 0;
    for (const shown of commands) {
      const line = shown.replace("--repo owner/repo", `--repo file:///mnt/src.git --add-dir ${dir}/src.git:/mnt/src.git:ro`);
      if (/^shed attach /.test(line)) {
        await attachOnTerminal(line, env, run);
        ran++;
        continue;
      }
      const r = await run(line);
      expect(r.code, `${shown}\n${r.stdout}${r.stderr}`).toBe(0);
      ran++;
      if (shown.startsWith("shed create")) {
        const info = JSON.parse((await run("shed info myproj --json")).stdout);
        expect(info.warnings ?? [], "the clone worked").toEqual([]);
      }
      if (shown.includes("git -C /workspace log")) expect(r.stdout).toContain("the first commit");
      if (shown.startsWith("echo hello")) expect(r.stdout).toBe("hello\n");
      if (shown.startsWith("shed exec -u root")) expect(r.stdout).toBe("root\n");
      if (shown === "shed sessions myproj") expect(r.stdout).toContain("agent");
      if (shown === "shed sync myproj") expect((await run("shed exec myproj -- git config user.name")).stdout).toBe("skill test\n");
    }
    expect(ran).toBe(commands.length);
    expect(readFileSync(join(dir, "work/notes-back.txt"), "utf8")).toBe("notes\n");
    expect((await run("shed list -q")).stdout).toBe("");
  });
});

/** `shed attach` on a terminal: an outer tmux session runs it; attached is when the shed's tmux has a client. */
async function attachOnTerminal(line: string, env: Record<string, string | undefined>, run: (l: string) => Promise<{ stdout: string; code: number }>) {
  const vars = ["PATH", "HOME", "SHED_CONFIG_DIR"].map((k) => `${k}='${env[k]}'`).join(" ");
  sh(`tmux new-session -d -s shed-skill-attach -x 100 -y 30 "env ${vars} SSH_AUTH_SOCK= ${line}"`);
  try {
    let clients = "";
    for (let i = 0; i < 150 && !clients.trim(); i++) {
      clients = (await run("shed exec myproj -- tmux list-clients -t agent")).stdout;
      if (!clients.trim()) await Bun.sleep(200);
    }
    expect(clients.trim(), `${line} attached a client to the session`).not.toBe("");
  } finally {
    sh("tmux kill-session -t shed-skill-attach", { allowFail: true });
  }
}
