import { backendDefinitions, backendNames } from "../../backends/registry.ts";

/**
 * The server.yaml `shed-server install` writes when there is none: every key commented with
 * what it does, set to its default, with what detection finds on this host at install time.
 * It must parse to the defaults (unit-tested against the schema).
 */
export function serverYamlTemplate(opts: { name: string; stateDir: string; detected: string; date: string }): string {
  return `# shed-server configuration, written by \`shed-server install\` on ${opts.date}.
# Every key is optional; the values below are the defaults. Check a change with
#   shed-server config-validate --config <this file>
# and look at the host with: shed-server doctor

name: ${JSON.stringify(opts.name)}
# Loopback only. To serve other machines set 0.0.0.0 and auth.mode: token (open refuses it).
bind_address: 127.0.0.1
http_port: 8080
ssh_port: 2222
state_dir: ${opts.stateDir}

# detect picks, in order: firecracker (usable KVM), qemu with a KVM that boots a Linux
# kernel, docker, qemu emulated under TCG; on macOS vz, then docker. Or name one: ${backendNames().join(" | ")}.
${comment(`On this host at install time: ${opts.detected}`)}
default_backend: detect

ssh:
  # enforce: only these keys; warn: any key that signs (unknown ones logged); off.
  # Default: enforce, or warn while bound to loopback.
  authorized_keys: [~/.ssh/authorized_keys]

auth:
  # open: plain HTTP on http_port. token | mtls: HTTPS on https_port with a certificate made
  # here; clients get a token (or a client certificate) over SSH with \`shed server add HOST\`.
  mode: open
  # How long a minted token, or an mtls client certificate, lasts (the CLI renews it over SSH).
  token_ttl: 24h
https_port: 8443

${backendTemplates()}`;
}

/** Each backend's section as its folder writes it (definition.ts `template`). */
function backendTemplates(): string {
  return backendDefinitions()
    .filter((d) => d.template)
    .map((d) => `${d.name}:\n${d.template}`)
    .join("\n");
}

/** `text` as comment lines of at most ~95 columns. */
function comment(text: string): string {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.replaceAll("\n", " ").split(" ").filter(Boolean)) {
    if (line.length + word.length > 94 && line !== "#") {
      lines.push(line);
      line = "#  ";
    }
    line += ` ${word}`;
  }
  return [...lines, line].join("\n");
}
