import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true });

/**
 * Seed 004's provisioning on Docker with --local-dir: the workspace is a host directory, so
 * what the hooks write is checked right here. Install once (again after a failure), PATH
 * capture, startup on every start, shutdown before stop, warnings that never fail a create.
 */
describe.skipIf(skip)("provisioning hooks (compiled binaries, real Docker shed, --local-dir)", () => {
  let server: TestServer;
  let root: string;

  const repo = (name: string, provision: string, scripts: Record<string, string>) => {
    const dir = join(root, name);
    mkdirSync(join(dir, ".shed"), { recursive: true });
    mkdirSync(join(dir, "scripts"), { recursive: true });
    writeFileSync(join(dir, ".shed", "provision.yaml"), provision);
    for (const [file, body] of Object.entries(scripts)) writeFileSync(join(dir, "scripts", file), body);
    // The shed user (uid 1000) writes into the workspace, as a developer's checkout allows.
    chmodSync(dir, 0o777);
    return dir;
  };
  const exec = async (shed: string, cmd: string) => (await server.shed(["exec", shed, "--", "bash", "-lc", cmd])).stdout;

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    root = mkdtempSync(join(tmpdir(), "shed-provision-"));
    chmodSync(root, 0o755);
    server = await startServer({ config: { docker: { default_image: image } } });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("install once with env and PATH capture, startup on every start, shutdown before stop", async () => {
    const dir = repo(
      "good",
      "hooks:\n  install: scripts/install.sh\n  startup: scripts/startup.sh\n  shutdown: scripts/shutdown.sh\nenv:\n  MY_VAR: my_value\n",
      {
        "install.sh": [
          "#!/bin/bash",
          "set -e",
          'echo "install $SHED_NAME $SHED_CONTAINER $SHED_WORKSPACE $MY_VAR $(id -un) $(pwd)" >> installed.txt',
          "mkdir -p $HOME/tools && printf '#!/bin/sh\\necho tool-ok\\n' > $HOME/tools/mytool && chmod +x $HOME/tools/mytool",
          "echo 'export PATH=$HOME/tools:$PATH' >> $HOME/.bashrc",
          "echo installing-output",
        ].join("\n"),
        "startup.sh": "#!/bin/bash\nmytool >> startups.txt\n",
        "shutdown.sh": "#!/bin/bash\necho bye > shutdown.txt\n",
      },
    );
    const created = await server.shedJson(["create", "prov", "--local-dir", dir]);
    expect(created.warnings ?? []).toEqual([]);
    expect(readFileSync(join(dir, "installed.txt"), "utf8")).toBe("install prov true /workspace my_value shed /workspace\n");
    expect(readFileSync(join(dir, "startups.txt"), "utf8")).toBe("tool-ok\n");
    expect(await exec("prov", "cat /var/log/shed/install.log")).toContain("installing-output");
    expect(await exec("prov", "cat /etc/profile.d/shed-installed-tools.sh")).toContain("/home/shed/tools");
    // --local-dir is the host directory itself: edits show on both sides.
    writeFileSync(join(dir, "from-host.txt"), "host edit\n");
    expect(await exec("prov", "cat /workspace/from-host.txt; echo shed edit > /workspace/from-shed.txt")).toBe("host edit\n");
    expect(readFileSync(join(dir, "from-shed.txt"), "utf8")).toBe("shed edit\n");

    expect((await server.shed(["stop", "prov"])).code).toBe(0);
    expect(readFileSync(join(dir, "shutdown.txt"), "utf8")).toBe("bye\n");
    expect((await server.shed(["start", "prov"])).code).toBe(0);
    expect(readFileSync(join(dir, "startups.txt"), "utf8")).toBe("tool-ok\ntool-ok\n");
    expect(readFileSync(join(dir, "installed.txt"), "utf8").split("\n").filter(Boolean)).toHaveLength(1);
    await server.shed(["delete", "prov", "--force"]);
  });

  it("a failing install is a warning, the shed stays usable, and install runs again on the next start", async () => {
    const dir = repo("flaky", "hooks:\n  install: scripts/install.sh\n", {
      "install.sh": "#!/bin/sh\necho try >> tries.txt\n[ -e ok ] || { echo not yet >&2; exit 3; }\n",
    });
    const created = await server.shedJson(["create", "flaky", "--local-dir", dir]);
    expect(created.state).toBe("running");
    expect(created.warnings.join("\n")).toMatch(/install hook \(scripts\/install.sh\) failed with exit 3; see \/var\/log\/shed\/install.log/);
    expect(await exec("flaky", "cat /var/log/shed/install.log")).toContain("not yet");
    writeFileSync(join(dir, "ok"), "");
    await server.shed(["stop", "flaky"]);
    const started = await server.shedJson(["start", "flaky"]);
    expect(started.warnings ?? []).toEqual([]);
    expect(readFileSync(join(dir, "tries.txt"), "utf8")).toBe("try\ntry\n");
    await server.shed(["delete", "flaky", "--force"]);
  });

  it("--timeout bounds the create: a hanging install hook is stopped with a warning, the shed stays", async () => {
    const dir = repo("slow", "hooks:\n  install: scripts/install.sh\n", {
      "install.sh": "#!/bin/sh\necho started > started.txt\necho hook-says-hello\nsleep 600\n",
    });
    // Human output: the hook's lines stream as progress, the warning follows, the shed is made.
    const created = await server.shed(["create", "slow", "--local-dir", dir, "--timeout", "8s"]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("Created shed slow");
    expect(created.stderr).toContain("hook-says-hello");
    expect(created.stderr).toContain("warning: install hook (scripts/install.sh) took longer than the create's --timeout and was stopped");
    expect(readFileSync(join(dir, "started.txt"), "utf8")).toBe("started\n");
    const bad = await server.shed(["create", "slow2", "--timeout", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout takes a duration like 30s, 5m or 2h, got "soon"');
    await server.shed(["delete", "slow", "--force"]);
  });

  it("an invalid provision.yaml is a warning naming the key; --no-provision runs nothing; bad dirs are refused", async () => {
    const dir = repo("bad", "hooks:\n  install: [1, 2]\n", {});
    const created = await server.shedJson(["create", "badprov", "--local-dir", dir]);
    expect(created.warnings.join("\n")).toMatch(/provision\.yaml is invalid: .*hooks\.install/);
    await server.shed(["delete", "badprov", "--force"]);

    const quiet = repo("quiet", "hooks:\n  install: scripts/install.sh\n", { "install.sh": "#!/bin/sh\ntouch ran\n" });
    const extra = join(root, "extra");
    mkdirSync(extra);
    writeFileSync(join(extra, "data.txt"), "extra\n");
    const noProv = await server.shedJson(["create", "quiet", "--local-dir", quiet, "--add-dir", `${extra}:/opt/extra:ro`, "--no-provision"]);
    expect(noProv.state).toBe("running");
    expect(existsSync(join(quiet, "ran"))).toBe(false);
    expect(await exec("quiet", "cat /opt/extra/data.txt; touch /opt/extra/x 2>/dev/null || echo read-only")).toBe("extra\nread-only\n");
    await server.shed(["delete", "quiet", "--force"]);

    const missingDir = await server.shedJson(["create", "nodir", "--local-dir", join(root, "nope")]);
    expect(missingDir.error.code).toBe("INVALID_REQUEST");
    expect(missingDir.error.message).toContain("is not a directory on the server's host");
  });

  it("a hook named without a directory is the script in /workspace, not a command looked up in PATH", async () => {
    const dir = repo("bare", "hooks:\n  install: setup.sh\n", {});
    writeFileSync(join(dir, "setup.sh"), "#!/bin/sh\necho bare-ran > bare.txt\n");
    const created = await server.shedJson(["create", "bare", "--local-dir", dir]);
    expect(created.warnings ?? []).toEqual([]);
    expect(readFileSync(join(dir, "bare.txt"), "utf8")).toBe("bare-ran\n");
    expect((await server.shed(["delete", "-f", "bare"])).code).toBe(0);
  });
});
