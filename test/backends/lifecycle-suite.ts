import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackendFeatures } from "../../src/api/schemas/info.ts";
import type { TestServer } from "../harness/index.ts";
import type { LifecycleTarget } from "./target.ts";

/**
 * The lifecycle every backend must pass, driven through the CLI against a real server:
 * create -> exec -> list -> stop -> start -> reset -> delete on one shed; a duplicate is
 * refused; a failed create leaves nothing; a kill -9 of shed-server and a restart re-adopt
 * running and stopped sheds; host directories, --local-dir and provisioning hooks where the
 * backend's features say it mounts them (and the server refuses them where they say not).
 * The main shed boots three times (create, start, start after reset), the mounted one once.
 */
export function lifecycleSuite(target: LifecycleTarget): void {
  const skip = target.missing();
  if (skip) console.warn(`lifecycle suite on ${target.backend}: ${skip}`);
  const T = target.timeoutMs;

  describe.skipIf(skip)(`lifecycle suite: ${target.backend}`, () => {
    let server: TestServer;
    let image: string;
    let features: BackendFeatures;
    const host = mkdtempSync(join(tmpdir(), `shed-suite-${target.backend}-`));

    const shed = (args: string[]) => server.shed(args, { timeoutMs: T });
    const json = (args: string[]) => server.shedJson(args, { timeoutMs: T });
    const ok = async (args: string[]) => {
      const r = await shed(args);
      if (r.code !== 0) throw new Error(`shed ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    const exec = (name: string, cmd: string, user = "shed") => ok(["exec", name, "-u", user, "--", "sh", "-c", cmd]);
    const names = async () => ((await json(["list"])).sheds as { name: string }[]).map((s) => s.name);
    /**
     * [machine-id, hostname, SSH ed25519 host key] of a shed. Where the image has ssh-keygen but
     * no host keys (the Docker test image), it makes them, as sshd's package would; a VM's
     * shed-hostkeys makes them after the agent is up, so this waits for them.
     */
    const identity = async (name: string) => {
      const key = "/etc/ssh/ssh_host_ed25519_key";
      const script =
        `if ! grep -q shed.name= /proc/cmdline && [ -d /etc/ssh ] && [ ! -e ${key} ]; then ssh-keygen -q -t ed25519 -N '' -f ${key}; fi; ` +
        `for i in $(seq 300); do [ -s ${key}.pub ] && break; sleep 1; done; cat /etc/machine-id 2>/dev/null || echo none; hostname; cut -d' ' -f2 ${key}.pub`;
      return (await exec(name, script, "root")).trim().split("\n");
    };
    /** Prints why a test of this backend does not apply, and skips it. */
    const notHere = (ctx: { skip: () => void }, why: string) => {
      console.warn(`lifecycle suite on ${target.backend}: skipped: ${why}`);
      ctx.skip();
    };

    beforeAll(async () => {
      ({ server, image } = await target.start());
      const info = JSON.parse(run(server.wrap([process.execPath, "-e", `console.log(await (await fetch("${server.url}/api/info")).text())`])));
      features = info.backends.find((b: { name: string }) => b.name === target.backend).features;
      expect(info.defaultBackend).toBe(target.backend);
    }, target.startTimeoutMs ?? 2 * T);

    afterAll(async () => {
      if (server) for (const name of ["life", "mounted", "ghost", "refused", "snap-src", "spawn-a", "spawn-b", "snap-refused"]) await server.shed(["delete", name, "--force"], { timeoutMs: T }).catch(() => {});
      if (server) for (const name of ["suite-snap"]) await server.shed(["snapshot", "delete", "-f", name], { timeoutMs: T }).catch(() => {});
      await target.cleanup?.(server);
      await server?.stop();
      rmSync(host, { recursive: true, force: true });
    }, 2 * T);

    it("create: running on its backend with the spec asked for", async () => {
      const created = await shed(["create", "life", "--image", image, ...target.create.args, "-e", "SUITE_VAR=suite value"]);
      expect(created.code, created.stderr).toBe(0);
      // Progress goes to stderr, the agent's readiness among it.
      expect(created.stderr).toContain("agent");
      expect(await json(["info", "life"])).toMatchObject({
        name: "life",
        backend: target.backend,
        state: "running",
        ...target.create.expect,
        envNames: ["SUITE_VAR"],
      });
      expect(target.instance(server, "life")).toBe("running");
      await target.afterCreate?.(server, "life", image);
    }, T);

    it("exec: the argv exactly, the exit code, stdout and stderr apart, the shed's environment", async () => {
      expect(await ok(["exec", "life", "--", "printf", "%s|", "a", "b c", "", "ü"])).toBe("a|b c||ü|");
      const r = await shed(["exec", "life", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 3, stdout: "out\n" });
      expect(r.stderr).toContain("err");
      expect(await ok(["exec", "life", "--", "printenv", "SUITE_VAR"])).toBe("suite value\n");
    }, T);

    it("list: the shed, running, on its backend", async () => {
      const list = await json(["list"]);
      expect(list.sheds).toContainEqual(expect.objectContaining({ name: "life", state: "running", backend: target.backend }));
      const human = await ok(["list"]);
      expect(human).toMatch(/NAME\s+STATE\s+BACKEND/);
      expect(human).toMatch(new RegExp(`life\\s+running\\s+${target.backend}`));
    }, T);

    it("refuses a duplicate and leaves the first untouched", async () => {
      expect((await json(["create", "life", "--image", image])).error.code).toBe("SHED_EXISTS");
      expect((await json(["info", "life"])).state).toBe("running");
      expect(target.instance(server, "life")).toBe("running");
    }, T);

    it("a failed create leaves nothing behind", async () => {
      const r = await json(["create", "ghost", "--image", "shed-test/does-not-exist:1"]);
      expect(r.error.code).toBe("IMAGE_NOT_FOUND");
      expect(r.error.message).toContain("shed-test/does-not-exist:1");
      expect(target.instance(server, "ghost")).toBe("gone");
      expect(await names()).not.toContain("ghost");
    }, T);

    it("a kill -9 of shed-server and a restart: the running shed is re-adopted (the same instance) and answers", async () => {
      const before = target.identity(server, "life");
      expect(before).toBeTruthy();
      await server.kill("SIGKILL");
      expect(target.instance(server, "life")).toBe("running");
      await server.restart();
      expect((await json(["info", "life"])).state).toBe("running");
      expect(target.identity(server, "life")).toBe(before);
      expect((await ok(["exec", "life", "--", "echo", "after-restart"])).trim()).toBe("after-restart");
    }, T);

    it("stop -> start keeps what was written; reset is refused while running; a stopped shed stays stopped across a restart", async () => {
      const kept = target.keptPaths(server, "life");
      for (const p of kept) await exec("life", `mkdir -p "$(dirname '${p}')" && echo kept > '${p}' && sync`, "root");
      const hostKey = await identity("life");
      expect((await json(["reset", "life", "-y"])).error.code).toBe("SHED_NOT_STOPPED");
      expect((await json(["stop", "life"])).state).toBe("stopped");
      expect(target.instance(server, "life")).toBe("stopped");
      expect((await json(["stop", "life"])).state).toBe("stopped");
      await server.kill("SIGKILL");
      await server.restart();
      expect((await json(["info", "life"])).state).toBe("stopped");
      expect(target.instance(server, "life")).toBe("stopped");
      expect((await json(["start", "life"])).state).toBe("running");
      expect(await exec("life", kept.map((p) => `cat '${p}'`).join(" && "), "root")).toBe("kept\n".repeat(kept.length));
      // The shed's own known_hosts entry stays valid: its host key and name are the same after a stop/start.
      expect((await identity("life")).slice(1)).toEqual(hostKey.slice(1));
    }, 3 * T);

    it("reset: back to the image when stopped, same name and settings", async () => {
      await ok(["stop", "life"]);
      expect(await json(["reset", "life", "-y"])).toMatchObject({ name: "life", state: "stopped", ...target.create.expect });
      await ok(["start", "life"]);
      const kept = target.keptPaths(server, "life");
      expect(await exec("life", kept.map((p) => `test -e '${p}' && echo '${p}' kept || echo gone`).join("; "), "root")).toBe("gone\n".repeat(kept.length));
    }, 3 * T);

    it("delete: refused while running without --force; --force removes everything it had", async () => {
      expect((await json(["delete", "life", "-y"])).error.code).toBe("SHED_NOT_STOPPED");
      const del = await shed(["delete", "life", "--force"]);
      expect(del.code, del.stderr).toBe(0);
      expect(target.instance(server, "life")).toBe("gone");
      expect(await names()).toEqual([]);
    }, T);

    it("snapshots where features.snapshots says: refused while running, spawns with the file and package and their own identity, outlive the source", async (ctx) => {
      if (!features.snapshots) {
        await ok(["create", "snap-refused", "--image", image]);
        await ok(["stop", "snap-refused"]);
        const r = await json(["snapshot", "create", "snap-refused", "suite-snap"]);
        expect(r.error.code).toBe("UNSUPPORTED");
        await ok(["delete", "snap-refused", "--force"]);
        return notHere(ctx, "features.snapshots is false: the server refused a snapshot, as checked");
      }
      await ok(["create", "snap-src", "--image", image]);
      // A file in its home, and a package installed outside the workspace (a real .deb, by dpkg).
      await exec("snap-src", "echo from-the-snapshot > ~/snap-note && sync");
      const pkg = join(host, "pkg");
      mkdirSync(join(pkg, "DEBIAN"), { recursive: true });
      mkdirSync(join(pkg, "usr/local/bin"), { recursive: true });
      writeFileSync(join(pkg, "DEBIAN/control"), "Package: shed-suite-tool\nVersion: 1.0\nArchitecture: all\nMaintainer: shed <shed@localhost>\nDescription: the lifecycle suite's package\n");
      writeFileSync(join(pkg, "usr/local/bin/shed-suite-tool"), "#!/bin/sh\necho suite-tool works\n", { mode: 0o755 });
      run(["dpkg-deb", "--root-owner-group", "--build", pkg, join(host, "suite.deb")]);
      await ok(["cp", join(host, "suite.deb"), "snap-src:/tmp/suite.deb"]);
      await exec("snap-src", "dpkg -i /tmp/suite.deb >/dev/null && rm /tmp/suite.deb && sync", "root");
      const source = await identity("snap-src");

      const running = await json(["snapshot", "create", "snap-src", "suite-snap"]);
      expect(running.error.code).toBe("SHED_NOT_STOPPED");
      expect(running.error.message).toContain("stop the shed first");
      await ok(["stop", "snap-src"]);
      const snap = await json(["snapshot", "create", "snap-src", "suite-snap", "--comment", "suite baseline"]);
      expect(snap).toMatchObject({ name: "suite-snap", backend: target.backend, sourceShed: "snap-src", comment: "suite baseline", imagePresent: true });
      expect((await json(["snapshot", "list"])).snapshots.map((s: { name: string }) => s.name)).toEqual(["suite-snap"]);
      expect((await json(["snapshot", "create", "snap-src", "suite-snap"])).error.code).toBe("SNAPSHOT_EXISTS");
      await target.afterSnapshot?.(server, "suite-snap");

      // Seed 003's constraints, refused before anything is made.
      const withImage = await shed(["create", "snap-refused", "--from-snapshot", "suite-snap", "--image", image]);
      expect(withImage.code).toBe(2);
      expect(withImage.stderr).toContain("--from-snapshot");
      const other = target.backend === "docker" ? "qemu" : "docker";
      const cross = await json(["create", "snap-refused", "--from-snapshot", "suite-snap", "--backend", other]);
      expect(cross.error.code).toBe("INVALID_REQUEST");
      expect(cross.error.message).toContain(target.backend);
      expect(cross.error.message).toContain(other);
      expect(await names()).not.toContain("snap-refused");

      const a = await json(["create", "spawn-a", "--from-snapshot", "suite-snap"]);
      expect(a, JSON.stringify(a)).toMatchObject({ name: "spawn-a", state: "running", backend: target.backend, fromSnapshot: "suite-snap" });
      // Snapshots outlive their source.
      await ok(["delete", "snap-src", "--force"]);
      expect(target.instance(server, "snap-src")).toBe("gone");
      expect((await json(["snapshot", "info", "suite-snap"])).imagePresent).toBe(true);
      const b = await json(["create", "spawn-b", "--from-snapshot", "suite-snap"]);
      expect(b.state, JSON.stringify(b)).toBe("running");
      const ids: string[][] = [source];
      for (const name of ["spawn-a", "spawn-b"]) {
        expect(await exec(name, "cat ~/snap-note")).toBe("from-the-snapshot\n");
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query expands it, not JS
        expect(await exec(name, "dpkg-query -W -f '${Status}' shed-suite-tool; echo; shed-suite-tool")).toBe("install ok installed\nsuite-tool works\n");
        ids.push(await identity(name));
      }
      // machine-id, hostname and host key: each spawn its own, and none the source's.
      for (const i of [0, 1, 2]) expect(new Set(ids.map((id) => id[i])).size, `identity field ${i}: ${JSON.stringify(ids)}`).toBe(3);
      expect(ids[1]![1]).toBe("spawn-a");
      expect(ids[2]![1]).toBe("spawn-b");

      // Deleting the snapshot leaves the spawns theirs.
      await ok(["snapshot", "delete", "-f", "suite-snap"]);
      expect((await json(["snapshot", "info", "suite-snap"])).error.code).toBe("SNAPSHOT_NOT_FOUND");
      expect(await exec("spawn-a", "cat ~/snap-note")).toBe("from-the-snapshot\n");
      for (const name of ["spawn-a", "spawn-b"]) await ok(["delete", name, "--force"]);
      expect(await names()).toEqual([]);
    }, 6 * T);

    it("host directories where features.localDir says: --local-dir both ways, --add-dir read-only, provisioning hooks", async (ctx) => {
      const workspace = join(host, "ws");
      mkdirSync(join(workspace, ".shed"), { recursive: true });
      mkdirSync(join(workspace, "scripts"));
      if (!features.localDir) {
        const r = await json(["create", "refused", "--image", image, "--local-dir", workspace]);
        expect(r.error.code).toBe("UNSUPPORTED");
        expect(r.error.message).toMatch(/cannot mount host directories/);
        expect(target.instance(server, "refused")).toBe("gone");
        expect(await names()).not.toContain("refused");
        return notHere(ctx, `features.localDir is false: mounts and hooks in a host workspace (the server refused --local-dir, as checked)`);
      }
      const ro = join(host, "ro");
      mkdirSync(ro);
      writeFileSync(join(ro, "token"), "t0ken\n");
      writeFileSync(join(workspace, "from-host.txt"), "host edit\n");
      const hooks = { install: 'echo "install $SHED_NAME $(id -un)" >> installed.txt', startup: "echo started >> startups.txt", shutdown: "echo bye > shutdown.txt" };
      writeFileSync(join(workspace, ".shed", "provision.yaml"), `hooks:\n${Object.keys(hooks).map((h) => `  ${h}: scripts/${h}.sh\n`).join("")}`);
      for (const [hook, line] of Object.entries(hooks)) writeFileSync(join(workspace, "scripts", `${hook}.sh`), `#!/bin/sh\n${line}\n`);
      const owner = target.localDirOwner ?? 1000;
      const files = ["", ".shed", ".shed/provision.yaml", "scripts", "from-host.txt", ...Object.keys(hooks).map((h) => `scripts/${h}.sh`)];
      for (const f of files) chownSync(join(workspace, f), owner, owner);
      chmodSync(host, 0o755);

      const created = await json(["create", "mounted", "--image", image, "--local-dir", workspace, "--add-dir", `${ro}:/opt/suite-ro:ro`]);
      expect(created.state, JSON.stringify(created)).toBe("running");
      expect(created.warnings ?? []).toEqual([]);
      expect(await exec("mounted", "cat /workspace/from-host.txt; echo shed edit > /workspace/from-shed.txt")).toBe("host edit\n");
      expect(readFileSync(join(workspace, "from-shed.txt"), "utf8")).toBe("shed edit\n");
      expect(await exec("mounted", "cat /opt/suite-ro/token; touch /opt/suite-ro/x 2>/dev/null || echo read-only", "root")).toBe("t0ken\nread-only\n");
      expect(readFileSync(join(workspace, "installed.txt"), "utf8")).toBe("install mounted shed\n");
      expect(readFileSync(join(workspace, "startups.txt"), "utf8")).toBe("started\n");
      const del = await shed(["delete", "mounted", "--force"]);
      expect(del.code, del.stderr).toBe(0);
      if (features.shutdownHook) expect(readFileSync(join(workspace, "shutdown.txt"), "utf8")).toBe("bye\n");
      else expect(existsSync(join(workspace, "shutdown.txt"))).toBe(false);
      expect(target.instance(server, "mounted")).toBe("gone");
      // The host directory is the user's: deleting the shed leaves it.
      expect(readFileSync(join(workspace, "from-host.txt"), "utf8")).toBe("host edit\n");
    }, 3 * T);
  });
}

function run(argv: string[]): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${p.exitCode}): ${p.stderr.toString()}`);
  return p.stdout.toString();
}
