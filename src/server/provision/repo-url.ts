import { ShedError } from "../../api/errors.ts";

/**
 * What `--repo` accepts: `owner/repo` (GitHub shorthand, seed 001), a URL git understands
 * (https, http, ssh, git, file) or scp-like `user@host:path`. Anything that could be read as
 * a git option, or carries whitespace, is refused before it reaches a shell or git.
 */
export function repoUrl(spec: string): string {
  const s = spec.trim();
  if (!s || s.startsWith("-") || /\s/.test(s)) {
    throw new ShedError("INVALID_REQUEST", `--repo "${spec}" is not a repository: give owner/repo or a git URL`);
  }
  if (/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(s)) return `https://github.com/${s.replace(/\.git$/, "")}.git`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s)?.[1]?.toLowerCase();
  if (scheme) {
    if (!["https", "http", "ssh", "git", "file"].includes(scheme)) {
      throw new ShedError("INVALID_REQUEST", `--repo ${spec}: git URLs may be https, http, ssh, git or file, not ${scheme}`);
    }
    return s;
  }
  if (/^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:[^/]/.test(s)) return s; // git@github.com:owner/repo.git
  throw new ShedError("INVALID_REQUEST", `--repo ${spec}: give owner/repo, a URL (https://, ssh://, file://) or user@host:path`);
}

/** The directory name a clone of `url` would get (for messages). */
export function repoName(url: string): string {
  return url.replace(/\/+$/, "").split(/[/:]/).pop()!.replace(/\.git$/, "");
}
