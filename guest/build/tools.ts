/**
 * What each image variant carries, as data: the commands test/images/tools-check.ts runs as the
 * `shed` user in a login shell (each must exit 0). `version` names the recipe's `versions`
 * entry the output must show. Each variant has its parent's tools too.
 */
export interface ToolCheck {
  name: string;
  /** Shell command, run by `sudo -iu shed`. */
  cmd: string;
  version?: string;
}

const BASE: ToolCheck[] = [
  ...["git", "gh", "curl", "wget", "vim", "nvim", "htop", "jq", "rg", "tree", "gcc", "make", "docker", "containerd", "runc"].map(
    (name) => ({ name, cmd: `${name} --version` }),
  ),
  { name: "tmux", cmd: "tmux -V" },
  { name: "ssh", cmd: "ssh -V" },
  // In /usr/sbin, outside the shed user's PATH.
  { name: "dockerd", cmd: "sudo dockerd --version" },
  { name: "iptables", cmd: "sudo iptables --version" },
  { name: "nft", cmd: "sudo nft --version" },
  { name: "systemd", cmd: "systemctl --version" },
  { name: "docker group", cmd: "id -nG | grep -qw docker" },
];

const DEVTOOLS: ToolCheck[] = [
  { name: "node", cmd: "node --version", version: "node" },
  { name: "npm", cmd: "npm --version" },
  { name: "python3", cmd: "python3 --version", version: "python" },
  { name: "mise", cmd: "mise --version", version: "mise" },
  { name: "claude", cmd: "claude --version", version: "claude-code" },
];

const DEFAULT: ToolCheck[] = [
  { name: "opencode", cmd: "opencode --version", version: "opencode" },
  { name: "codex", cmd: "codex --version", version: "codex" },
];

const EXPERIMENTAL: ToolCheck[] = [
  { name: "docker-credential-shed", cmd: "test -x /usr/local/bin/docker-credential-shed" },
  { name: "shed-ext", cmd: "test -x /usr/local/bin/shed-ext" },
  { name: "credsStore", cmd: "grep -q '\"credsStore\":\"shed\"' ~/.docker/config.json" },
  { name: "broker env", cmd: 'test "$SSH_AUTH_SOCK" = /run/shed/ssh-agent.sock && test -n "$AWS_CONTAINER_CREDENTIALS_FULL_URI"' },
];

export const VARIANT_TOOLS: Record<string, { parent?: string; tools: ToolCheck[] }> = {
  base: { tools: BASE },
  devtools: { parent: "base", tools: DEVTOOLS },
  default: { parent: "devtools", tools: DEFAULT },
  experimental: { parent: "default", tools: EXPERIMENTAL },
};

/** The variant's checks, its parents' first. */
export function toolsFor(variant: string): ToolCheck[] {
  const entry = VARIANT_TOOLS[variant];
  if (!entry) throw new Error(`no tool list for image variant ${variant} (guest/build/tools.ts)`);
  return [...(entry.parent ? toolsFor(entry.parent) : []), ...entry.tools];
}

/**
 * Inside the shed, `docker run` of an image built there and then (no registry): a tar of
 * `echo` and its loader and libc, imported.
 */
export const DOCKER_RUN_CHECK =
  "tar -chf - -C / usr/bin/echo lib64/ld-linux-x86-64.so.2 lib/x86_64-linux-gnu/libc.so.6 | docker import - shed-check/echo:1 >/dev/null && docker run --rm shed-check/echo:1 /usr/bin/echo docker-run-ok";
