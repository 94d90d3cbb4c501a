import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sh } from "../harness/host.ts";
import { ensureTestImage } from "../harness/images.ts";
import { runId } from "../harness/run-id.ts";

/** What the experimental image's broker.env says, plus a token the AWS endpoint checks. */
export const AWS_TOKEN = "test-endpoint-token";
export const AWS_URI = "http://127.0.0.1:1338/creds";

/**
 * The Debian test image with what the experimental variant adds for brokering: broker.env,
 * the profile.d line exporting it, the shed user's Docker config naming the `shed` store,
 * and docker-credential-shed / shed-ext as names of the agent the Docker backend mounts at
 * /.shed. Labelled with the run, so cleanupDocker removes it.
 */
export async function ensureBrokerImage(): Promise<string> {
  const base = await ensureTestImage("debian");
  const ref = `shed-test/broker:${runId}`;
  const dir = mkdtempSync(join(tmpdir(), "shed-broker-image-"));
  try {
    writeFileSync(join(dir, "broker.env"), `SSH_AUTH_SOCK=/run/shed/ssh-agent.sock\nAWS_CONTAINER_CREDENTIALS_FULL_URI=${AWS_URI}\nAWS_CONTAINER_AUTHORIZATION_TOKEN=${AWS_TOKEN}\n`);
    writeFileSync(join(dir, "shed-broker.sh"), "set -a\n. /etc/shed/broker.env\nset +a\n");
    writeFileSync(join(dir, "docker-config.json"), '{"credsStore":"shed"}\n');
    writeFileSync(
      join(dir, "Dockerfile"),
      [
        `FROM ${base}`,
        "COPY broker.env /etc/shed/broker.env",
        "COPY shed-broker.sh /etc/profile.d/shed-broker.sh",
        "COPY --chown=1000:1000 docker-config.json /home/shed/.docker/config.json",
        "RUN ln -s /.shed/bin/shed-agent /usr/local/bin/docker-credential-shed && ln -s /.shed/bin/shed-agent /usr/local/bin/shed-ext && chown 1000:1000 /home/shed/.docker",
      ].join("\n"),
    );
    sh(`docker build -q --label shed.test=1 --label shed.test.run=${runId} -t ${ref} ${dir} >/dev/null 2>&1`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return ref;
}
