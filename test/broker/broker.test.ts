import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, cleanupDocker, missing, sh, startServer, type TestServer } from "../harness/index.ts";
import { eventually } from "../harness/eventually.ts";
import { namePrefix } from "../harness/run-id.ts";
import { AWS_TOKEN, AWS_URI, ensureBrokerImage } from "./broker-image.ts";

/** A search that must find the one file it names: proof the searches after it ran, as root, over the shed's files. */
const CONTROL = "grep -rlsF credsStore /home/shed";
const CONTROL_FOUND = "/home/shed/.docker/config.json";
const NO_BROKER = "no broker connected: run `shed broker` on your machine";
const skip = missing({ docker: true, commands: ["ssh-agent", "ssh-add", "ssh-keygen", "sshd", "nsenter", "unshare", "docker-registry", "htpasswd", "curl"] });

/**
 * Credential brokering end to end, with the real pieces on the user's side: an ssh-agent
 * holding a key, a Docker config whose registry (docker-registry with htpasswd) takes those
 * credentials, a credential_process script; `shed broker` connected to server A. The sheds
 * are Docker sheds of an image carrying what the experimental variant adds.
 */
describe.skipIf(skip)("credential brokering (shed broker, docker sheds)", () => {
  let a: TestServer;
  let b: TestServer;
  let dir: string;
  let agent: ReturnType<typeof Bun.spawn> | undefined;
  let sshd: ReturnType<typeof Bun.spawn> | undefined;
  let registry: ReturnType<typeof Bun.spawn> | undefined;
  let broker: { proc: ReturnType<typeof Bun.spawn>; log: string[] } | undefined;
  let agentSock: string;
  let registryPort: number;
  const registryUser = "alice";
  const registryPass = "registry-pass-4f1e";
  const awsSecret = "aws-secret-9d2c7e";

  const inShed = async (server: TestServer, name: string, script: string) => {
    const r = await server.shed(["exec", name, "--", "bash", "-lc", script]);
    return { ...r, all: r.stdout + r.stderr };
  };

  const startBroker = async (extra: string[] = []) => {
    const log: string[] = [];
    const proc = Bun.spawn([join(DIST, "shed"), "broker", ...extra], {
      env: {
        ...process.env,
        SHED_CONFIG_DIR: a.configDir,
        SSH_AUTH_SOCK: agentSock,
        DOCKER_CONFIG: join(dir, "docker"),
        AWS_CONFIG_FILE: join(dir, "aws-config"),
        AWS_PROFILE: "dev",
      },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    void (async () => {
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) log.push(new TextDecoder().decode(chunk));
    })();
    broker = { proc, log };
    const status = await eventually(async () => (await inShed(a, "one", "shed-ext status >/dev/null; echo $?")).stdout.trim(), "0");
    expect(status).toBe("0");
  };

  const stopBroker = async () => {
    broker?.proc.kill();
    await broker?.proc.exited;
  };

  beforeAll(async () => {
    const image = await ensureBrokerImage();
    dir = mkdtempSync(join(tmpdir(), "shed-broker-"));

    // The user's ssh-agent with one key.
    agentSock = join(dir, "agent.sock");
    sh(`ssh-keygen -q -t ed25519 -N '' -C user-key -f ${join(dir, "id_ed25519")}`);
    agent = Bun.spawn(["ssh-agent", "-D", "-a", agentSock], { stdout: "ignore", stderr: "ignore" });
    await eventually(() => String(Bun.spawnSync(["ssh-add", "-l"], { env: { SSH_AUTH_SOCK: agentSock } }).exitCode), "1", 20);
    sh(`SSH_AUTH_SOCK=${agentSock} ssh-add -q ${join(dir, "id_ed25519")}`);

    // A registry on loopback that wants a password, and the user's Docker config that has it.
    registryPort = freePort();
    sh(`htpasswd -Bbc ${join(dir, "htpasswd")} ${registryUser} ${registryPass} 2>/dev/null`);
    writeFileSync(
      join(dir, "registry.yml"),
      `version: 0.1\nstorage: { filesystem: { rootdirectory: ${join(dir, "registry")} } }\nhttp: { addr: "127.0.0.1:${registryPort}" }\nauth: { htpasswd: { realm: test, path: ${join(dir, "htpasswd")} } }\n`,
    );
    registry = Bun.spawn(["docker-registry", "serve", join(dir, "registry.yml")], { stdout: "ignore", stderr: "ignore" });
    mkdirSync(join(dir, "docker"));
    const auth = Buffer.from(`${registryUser}:${registryPass}`).toString("base64");
    writeFileSync(join(dir, "docker", "config.json"), JSON.stringify({ auths: { [`127.0.0.1:${registryPort}`]: { auth } } }));

    // The user's AWS configuration: a profile whose credential_process prints short-lived keys.
    const creds = join(dir, "aws-creds.sh");
    writeFileSync(
      creds,
      `#!/bin/sh\necho '{"Version":1,"AccessKeyId":"ASIATESTKEY","SecretAccessKey":"${awsSecret}","SessionToken":"session-tok","Expiration":"2099-01-01T00:00:00Z"}'\n`,
    );
    chmodSync(creds, 0o755);
    writeFileSync(join(dir, "aws-config"), `[profile dev]\ncredential_process = ${creds}\n`);

    a = await startServer({ config: { name: "server-a", docker: { default_image: image } } });
    b = await startServer({ config: { name: "server-b", docker: { default_image: image } } });
    for (const [server, name] of [[a, "one"], [b, "other"]] as const) {
      const created = await server.shed(["create", name]);
      if (created.code !== 0) throw new Error(created.stderr);
    }
    await startBroker();
  });

  afterAll(async () => {
    for (const p of [broker?.proc, sshd, registry, agent]) p?.kill("SIGKILL");
    await a?.stop();
    await b?.stop();
    cleanupDocker();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ssh-add -l in the shed lists the user's key; ssh -T with it works; no private key is in the shed", async () => {
    const fp = sh(`ssh-keygen -lf ${join(dir, "id_ed25519.pub")}`).split(" ")[1]!;
    const list = await inShed(a, "one", "echo $SSH_AUTH_SOCK; ssh-add -l");
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("/run/shed/ssh-agent.sock");
    expect(list.stdout).toContain(`${fp} user-key (ED25519)`);

    // An sshd in the shed's own network namespace (on its loopback), that takes only this key.
    const pid = sh(`docker inspect -f '{{.State.Pid}}' ${namePrefix}one`).trim();
    writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "id_ed25519.pub")));
    sh(`ssh-keygen -q -t ed25519 -N '' -f ${join(dir, "host_key")}`);
    const opts = [
      "ListenAddress=127.0.0.1:2022",
      `HostKey=${join(dir, "host_key")}`,
      `AuthorizedKeysFile=${join(dir, "authorized_keys")}`,
      "StrictModes=no",
      "PasswordAuthentication=no",
      "KbdInteractiveAuthentication=no",
      "PermitRootLogin=prohibit-password",
      "UsePAM=no",
      "PidFile=none",
      "ForceCommand=echo brokered-ssh-ok",
    ].flatMap((o) => ["-o", o]);
    // Its privilege separation dir on a tmpfs of its own mount namespace: nothing on this host changes.
    sshd = Bun.spawn(
      ["nsenter", "-t", pid, "-n", "unshare", "-m", "--propagation", "private", "sh", "-c", 'mount -t tmpfs none /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e "$@"', "sshd", ...opts],
      { stdout: "ignore", stderr: "pipe" },
    );
    const ssh = "ssh -T -p 2022 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 root@127.0.0.1";
    const login = await eventually(async () => (await inShed(a, "one", `${ssh} 2>/dev/null`)).stdout.trim(), "brokered-ssh-ok", 20);
    expect(login).toBe("brokered-ssh-ok");

    // Neither this key nor any OpenSSH private key file anywhere in the shed (its bundle aside).
    const secretLine = readFileSync(join(dir, "id_ed25519"), "utf8").split("\n")[2]!;
    const grep = `grep -rlsIF -e '${secretLine}' -e 'BEGIN OPENSSH PRIVATE KEY' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=.shed; true`;
    const found = await a.shed(["exec", "one", "--user", "root", "--", "sh", "-c", `${CONTROL}; ${grep}`]);
    expect(found.code).toBe(0);
    expect(found.stdout.trim()).toBe(CONTROL_FOUND);

    // The audit line has the key's fingerprint.
    const log = readFileSync(a.logPath, "utf8");
    expect(log).toMatch(new RegExp(`"brokered".*"shed":"one".*"kind":"ssh".*"key":"${fp.replace(/[+/]/g, "\\$&")}"`));
  });

  it("the shed cannot add, remove or lock keys through the brokered agent", async () => {
    sh(`ssh-keygen -q -t ed25519 -N '' -f ${join(dir, "guest_key")}`);
    const r = await inShed(a, "one", "ssh-keygen -q -t ed25519 -N '' -f /tmp/k && ssh-add /tmp/k; echo add=$?; ssh-add -D; echo removeall=$?; ssh-add -l | wc -l; rm -f /tmp/k /tmp/k.pub");
    expect(r.stdout).toMatch(/add=[1-9]/);
    expect(r.stdout).toMatch(/removeall=[1-9]/);
    expect(sh(`SSH_AUTH_SOCK=${agentSock} ssh-add -l`)).toContain("user-key");
  });

  it("docker-credential-shed get answers from the user's Docker config, and those credentials open the registry", async () => {
    const r = await inShed(a, "one", `cat ~/.docker/config.json; echo 127.0.0.1:${registryPort} | docker-credential-shed get`);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(JSON.parse(lines[0]!)).toEqual({ credsStore: "shed" });
    const got = JSON.parse(lines[1]!) as { ServerURL: string; Username: string; Secret: string };
    expect(got).toEqual({ ServerURL: `127.0.0.1:${registryPort}`, Username: registryUser, Secret: registryPass });
    const url = `http://127.0.0.1:${registryPort}/v2/`;
    await eventually(() => sh(`curl -s -o /dev/null -w '%{http_code}' ${url}`, { allowFail: true }), "401", 20);
    expect(sh(`curl -s -o /dev/null -w '%{http_code}' -u ${got.Username}:${got.Secret} ${url}`)).toBe("200");
    // Read-only: the guest cannot store credentials.
    const store = await inShed(a, "one", `echo '{"ServerURL":"x","Username":"u","Secret":"s"}' | docker-credential-shed store; echo rc=$?`);
    expect(store.stdout).toMatch(/read-only[\s\S]*rc=1/);
    const log = readFileSync(a.logPath, "utf8");
    expect(log).toMatch(new RegExp(`"brokered".*"kind":"docker".*"registry":"127.0.0.1:${registryPort}"`));
    expect(log).not.toContain(registryPass);
  });

  it("the AWS endpoint answers the credential_process JSON to an SDK-shaped request, and nothing reaches the guest's disk", async () => {
    const r = await inShed(a, "one", `echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; curl -s -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI"`);
    const [uri, body] = r.stdout.trim().split("\n");
    expect(uri).toBe(AWS_URI);
    expect(JSON.parse(body!)).toEqual({ AccessKeyId: "ASIATESTKEY", SecretAccessKey: awsSecret, Token: "session-tok", Expiration: "2099-01-01T00:00:00Z" });
    const unauth = await inShed(a, "one", `curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: wrong' ${AWS_URI}`);
    expect(unauth.stdout).toBe("401");
    expect(AWS_TOKEN).not.toBe("wrong");
    const found = await a.shed(["exec", "one", "--user", "root", "--", "sh", "-c", `${CONTROL}; grep -rlsF ${awsSecret} / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev; true`]);
    expect(found.code).toBe(0);
    expect(found.stdout.trim()).toBe(CONTROL_FOUND);
    const log = readFileSync(a.logPath, "utf8");
    expect(log).toMatch(/"brokered".*"kind":"aws".*"outcome":"ok"/);
    expect(log).not.toContain(awsSecret);
  });

  it("shed-ext status says the broker is connected and what each path can answer", async () => {
    const r = await inShed(a, "one", "shed-ext status");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^broker: connected/m);
    expect(r.stdout).toMatch(/^ssh-agent: ok \(1 key\)/m);
    expect(r.stdout).toMatch(/^docker: ok/m);
    expect(r.stdout).toMatch(/^aws: profile dev \(credential_process\)/m);
  });

  it("a broker connected to one server never answers the sheds of another", async () => {
    const list = await inShed(b, "other", "ssh-add -l");
    expect(list.stdout).toContain(NO_BROKER);
    expect(list.stdout).not.toContain("user-key");
    const docker = await inShed(b, "other", `echo 127.0.0.1:${registryPort} | docker-credential-shed get`);
    expect(docker.code).not.toBe(0);
    expect(docker.all).toContain(NO_BROKER);
    expect(broker!.log.join("")).not.toContain("other");
  });

  it("with the broker disconnected, every path says so in the guest", async () => {
    await stopBroker();
    await eventually(async () => (await inShed(a, "one", "shed-ext status >/dev/null; echo $?")).stdout.trim(), "1", 20);
    const status = await inShed(a, "one", "shed-ext status");
    expect(status.stdout).toContain(`broker: not connected (${NO_BROKER})`);
    const list = await inShed(a, "one", "ssh-add -l");
    expect(list.stdout).toContain(NO_BROKER);
    const docker = await inShed(a, "one", `echo 127.0.0.1:${registryPort} | docker-credential-shed get; echo rc=$?`);
    expect(docker.stdout).toContain(NO_BROKER);
    expect(docker.stdout).toContain("rc=1");
    const aws = await inShed(a, "one", `curl -s -w ' %{http_code}' -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI"`);
    expect(aws.stdout).toContain(NO_BROKER);
    expect(aws.stdout).toMatch(/ 503$/);
  });

  it("console --broker brokers while the session lasts", async () => {
    // Polled in the shed: the broker beside the console connects while the shell starts.
    const script = "for i in $(seq 40); do ssh-add -l 2>/dev/null | grep -q user-key && break; sleep 0.5; done; ssh-add -l\n";
    const r = await a.shed(["console", "one", "--broker"], { stdin: script, env: { SSH_AUTH_SOCK: agentSock } });
    expect(r.stdout).toContain("user-key");
    const after = await eventually(async () => (await inShed(a, "one", "shed-ext status >/dev/null; echo $?")).stdout.trim(), "1", 20);
    expect(after).toBe("1");
  });

  it("one broker per server: a newer one takes over and the older ends with the reason", async () => {
    await startBroker();
    const first = broker!;
    await startBroker();
    expect(await first.proc.exited).not.toBe(0);
    expect(first.log.join("")).toContain("another broker connected to this server");
    expect((await inShed(a, "one", "ssh-add -l")).stdout).toContain("user-key");
  });

  it("--confirm without a terminal refuses every signature; listing still works", async () => {
    const signScript = "ssh-add -L > /tmp/u.pub && echo msg > /tmp/m && ssh-keygen -Y sign -n test -f /tmp/u.pub /tmp/m >/dev/null 2>&1; echo rc=$?; rm -f /tmp/m /tmp/m.sig /tmp/u.pub";
    expect((await inShed(a, "one", signScript)).stdout).toContain("rc=0");
    await startBroker(["--confirm"]);
    expect((await inShed(a, "one", "ssh-add -l")).stdout).toContain("user-key");
    expect((await inShed(a, "one", signScript)).stdout).toMatch(/rc=[1-9]/);
    expect(broker!.log.join("")).toMatch(/one: ssh sign SHA256:\S+ refused \(the broker's user declined/);
  });
});

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
