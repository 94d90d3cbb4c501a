import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, missing, startServer, type TestServer } from "../harness/index.ts";
import { baseImageInDocker, guestImageMissing } from "../qemu/guest-image.ts";

const skip = missing({ docker: true }) ?? guestImageMissing();

/**
 * Seed 004 end to end on the `base` guest image (in Docker): a git repository made here and
 * mounted read-only (--add-dir REPO:/srv/repo:ro) is cloned with --repo file:///srv/repo, so
 * no network is needed; its hooks run in order with the server's mounts and env_file set up
 * before them; shutdown within its budget; `shed sync` copies what its dry run lists.
 */
describe.skipIf(skip)("provisioning: repo clone, config mounts, env_file, hooks, sync (base image on Docker)", () => {
  let server: TestServer;
  let root: string;
  let repo: string;

  const json = (args: string[]) => server.shedJson(args, { timeoutMs: 180_000 });
  const exec = async (shed: string, cmd: string) => {
    const r = await server.shed(["exec", shed, "--", "bash", "-lc", cmd]);
    if (r.code !== 0) throw new Error(`exec ${cmd}: ${r.code}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const git = (...args: string[]) => {
    const r = Bun.spawnSync(["git", "-C", repo, ...args], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  };
  const repoArgs = () => ["--add-dir", `${repo}:/srv/repo:ro`, "--repo", "file:///srv/repo"];

  beforeAll(async () => {
    const image = await baseImageInDocker();
    root = join(process.env.TMPDIR ?? "/tmp", `shed-repo-sync-${process.pid}`);
    rmSync(root, { recursive: true, force: true });
    repo = join(root, "repo");
    mkdirSync(join(repo, ".shed"), { recursive: true });
    mkdirSync(join(repo, "scripts"));
    writeFileSync(
      join(repo, ".shed/provision.yaml"),
      "hooks:\n  install: scripts/install.sh\n  startup: scripts/startup.sh\n  shutdown: scripts/shutdown.sh\nenv:\n  FROM_PROVISION: p1\n",
    );
    writeFileSync(
      join(repo, "scripts/install.sh"),
      [
        "#!/bin/bash",
        "set -e",
        'echo "install $SHED_NAME $FROM_ENV_FILE $FROM_PROVISION $(cat /opt/secrets/token)" >> order.txt',
        "mkdir -p $HOME/tools && printf '#!/bin/sh\\necho tool-ok\\n' > $HOME/tools/mytool && chmod +x $HOME/tools/mytool",
        "echo 'export PATH=$HOME/tools:$PATH' >> $HOME/.bashrc",
      ].join("\n"),
    );
    // Not executable on purpose: shed makes it so.
    writeFileSync(join(repo, "scripts/startup.sh"), "#!/bin/bash\necho startup >> order.txt\n");
    writeFileSync(join(repo, "scripts/shutdown.sh"), "#!/bin/bash\necho shutdown >> order.txt\nif [ -e hang ]; then sleep 600; fi\n");
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "provisioned repo");

    const secrets = join(root, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "token"), "s3cret\n");
    writeFileSync(join(root, "gitconfig"), "[user]\n\tname = Shed Test\n");
    writeFileSync(join(root, "env"), "# for clone and hooks\nFROM_ENV_FILE=e1\n");
    chmodSync(root, 0o755);
    server = await startServer({
      config: {
        docker: { default_image: image, stop_timeout: 10 },
        mounts: {
          secrets: { source: secrets, target: "/opt/secrets", readonly: true },
          gitconfig: { source: join(root, "gitconfig"), target: "/home/shed/.gitconfig" },
          absent: { source: join(root, "absent"), target: "/opt/absent" },
        },
        env_file: join(root, "env"),
      },
    });
  }, 900_000);

  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("clones --repo as the shed user after the mounts, then install and startup in order, PATH captured", async () => {
    const created = await json(["create", "prov", ...repoArgs(), "--no-sync"]);
    expect(created.state).toBe("running");
    // The only warning: the config mount whose source does not exist.
    expect(created.warnings).toEqual([`mounts.absent: ${join(root, "absent")} does not exist on the server; not mounted`]);
    expect(await exec("prov", "cat /workspace/order.txt")).toBe("install prov e1 p1 s3cret\nstartup\n");
    expect(await exec("prov", "git -C /workspace log --format=%s; stat -c %U /workspace/.shed/provision.yaml")).toBe("provisioned repo\nshed\n");
    expect(await exec("prov", "cat /var/log/shed/clone.log")).toContain("Cloning into '/workspace'");
    expect(await exec("prov", "mytool; grep -c /home/shed/tools /etc/profile.d/shed-installed-tools.sh")).toBe("tool-ok\n1\n");
    // Config mounts: read-only where asked, files too.
    expect(await exec("prov", "cat /home/shed/.gitconfig; touch /opt/secrets/x 2>/dev/null || echo read-only")).toBe(
      "[user]\n\tname = Shed Test\nread-only\n",
    );
  });

  it("stop runs the shutdown hook, start only startup; a hanging shutdown hook is cut at its budget", async () => {
    expect((await json(["stop", "prov"])).warnings).toBeUndefined();
    expect((await json(["start", "prov"])).state).toBe("running");
    expect(await exec("prov", "cat /workspace/order.txt")).toBe("install prov e1 p1 s3cret\nstartup\nshutdown\nstartup\n");
    await exec("prov", "touch /workspace/hang");
    const stopped = await json(["stop", "prov"]);
    expect(stopped.state).toBe("stopped");
    // stop_timeout 10 s: the hook gets half.
    expect(stopped.warnings.join("\n")).toContain("shutdown hook (scripts/shutdown.sh) took longer than its 5 s budget and was stopped");
  });

  it("refuses --repo with --local-dir and a bad repository; a failing clone is a warning", async () => {
    const both = await server.shed(["create", "x", "--repo", "a/b", "--local-dir", root]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--repo and --local-dir cannot be used together");
    const bad = await json(["create", "x", "--repo", "not a repo"]);
    expect(bad.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining("give owner/repo or a git URL") });
    const failing = await json(["create", "noclone", "--repo", "file:///srv/none", "--no-sync"]);
    expect(failing.state).toBe("running");
    expect(failing.warnings.join("\n")).toMatch(/--repo file:\/\/\/srv\/none: git clone failed with exit 128: .*see \/var\/log\/shed\/clone.log/);
    await server.shed(["delete", "noclone", "--force"]);
  });

  it("shed sync copies exactly what --dry-run lists, owned by who uses it, then runs postSync; create syncs the default profile", async () => {
    const dots = join(root, "dots");
    mkdirSync(join(dots, "cache"), { recursive: true });
    mkdirSync(join(dots, "conf.d"));
    writeFileSync(join(dots, "settings.json"), "{}\n");
    writeFileSync(join(dots, "conf.d/a.conf"), "a\n");
    writeFileSync(join(dots, "cache/big.bin"), "x".repeat(1000));
    writeFileSync(join(root, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    writeFileSync(
      join(server.configDir, "sync.yaml"),
      [
        "features:",
        "  tool:",
        "    paths:",
        `      - { source: ${dots}, target: ~/.config/tool, exclude: [cache] }`,
        `      - { source: ${join(root, "ca.pem")}, target: /usr/local/share/ca-certificates/dev.crt }`,
        "    postSync:",
        "      - run: ls /usr/local/share/ca-certificates > /var/tmp/post-sync.txt",
        "  other:",
        `    paths: [{ source: ${join(root, "gitconfig")}, target: /opt/other.conf }]`,
        "profiles:",
        "  default: { features: [tool] }",
        "  all: { features: [tool, other] }",
      ].join("\n"),
    );
    await json(["start", "prov"]);
    const dry = await json(["sync", "prov", "--dry-run"]);
    const listed = dry.features.flatMap((f: { files: { target: string }[] }) => f.files.map((x) => x.target)).sort();
    expect(listed).toEqual(["/home/shed/.config/tool/conf.d/a.conf", "/home/shed/.config/tool/settings.json", "/usr/local/share/ca-certificates/dev.crt"]);
    expect(await exec("prov", "ls /home/shed/.config/tool 2>&1 || true")).toContain("No such file");

    const synced = await json(["sync", "prov"]);
    expect(synced.warnings).toEqual([]);
    const found = (await exec("prov", "find /home/shed/.config/tool /usr/local/share/ca-certificates -type f | sort")).trim().split("\n");
    expect(found).toEqual(listed);
    expect(await exec("prov", "stat -c %U /home/shed/.config/tool/conf.d/a.conf /usr/local/share/ca-certificates/dev.crt")).toBe("shed\nroot\n");
    expect(await exec("prov", "cat /var/tmp/post-sync.txt; grep -c ^tool: /var/log/shed/sync.log")).toBe("dev.crt\n3\n");
    expect((await json(["sync", "prov", "-f", "other"])).features.map((f: { feature: string }) => f.feature)).toEqual(["other"]);
    expect(await exec("prov", "cat /opt/other.conf")).toContain("Shed Test");

    const auto = await json(["create", "synced"]);
    expect(auto.warnings).toEqual([`mounts.absent: ${join(root, "absent")} does not exist on the server; not mounted`]);
    expect(await exec("synced", "cat /home/shed/.config/tool/settings.json; test -e /opt/other.conf || echo no-other")).toBe("{}\nno-other\n");
    await json(["create", "unsynced", "--no-sync"]);
    expect(await exec("unsynced", "test -e /home/shed/.config/tool || echo not-synced")).toBe("not-synced\n");
    const missingProfile = await json(["create", "nope", "--sync-profile", "nope"]);
    expect(missingProfile.error.code).toBe("NOT_FOUND");
    expect(missingProfile.error.message).toContain('no profile "nope"');
    for (const name of ["synced", "unsynced", "prov"]) await server.shed(["delete", name, "--force"]);
  });

  it("runs commands with the user's supplementary groups (the docker group of the default image)", async () => {
    await json(["create", "groups", "--no-sync", "--no-provision"]);
    await server.shed(["exec", "groups", "-u", "root", "--", "sh", "-c", "groupadd -g 4242 tools && usermod -aG tools shed"]);
    expect((await exec("groups", "id -Gn")).split(" ").map((g) => g.trim())).toContain("tools");
    await server.shed(["delete", "groups", "--force"]);
  });
});
