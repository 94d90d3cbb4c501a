import { ShedError } from "../../api/errors.ts";
import { type Digest, isDigest } from "./digest.ts";

/**
 * Image references the way Docker reads them: `[domain/]path[:tag][@digest]`, with
 * `docker.io` and `library/` filled in for short names and `latest` when neither a tag nor
 * a digest is given. The store keys refs by `toString()`, the full normalised form.
 */
export const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const DOCKER_HUB_REGISTRY = "registry-1.docker.io";
export const DEFAULT_TAG = "latest";

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const NAME_MAX = 255;

export class Reference {
  constructor(
    readonly domain: string,
    /** Repository path in the registry, e.g. `library/busybox`. */
    readonly path: string,
    readonly tag: string | undefined,
    readonly digest: Digest | undefined,
  ) {}

  /** `domain/path`: the repository. */
  get name(): string {
    return `${this.domain}/${this.path}`;
  }

  /** Tag when given, else the digest: what a manifest GET asks for. */
  get reference(): string {
    return this.digest ?? this.tag ?? DEFAULT_TAG;
  }

  /** The host[:port] to talk HTTP to (Docker Hub's API lives on its own host). */
  get registry(): string {
    return this.domain === DEFAULT_DOMAIN ? DOCKER_HUB_REGISTRY : this.domain;
  }

  toString(): string {
    return `${this.name}${this.tag ? `:${this.tag}` : ""}${this.digest ? `@${this.digest}` : ""}`;
  }

  /** What people type and see: `busybox:latest`, not `docker.io/library/busybox:latest`. */
  familiar(): string {
    let name = this.name;
    if (this.domain === DEFAULT_DOMAIN) {
      name = this.path.startsWith("library/") && this.path.split("/").length === 2 ? this.path.slice(8) : this.path;
    }
    return `${name}${this.tag ? `:${this.tag}` : ""}${this.digest ? `@${this.digest}` : ""}`;
  }

  withTag(tag: string): Reference {
    return new Reference(this.domain, this.path, tag, undefined);
  }

  withDigest(digest: Digest): Reference {
    return new Reference(this.domain, this.path, undefined, digest);
  }
}

/** Parses and normalises a reference; INVALID_REQUEST with the reason when it is not one. */
export function parseReference(input: string): Reference {
  const fail = (why: string): never => {
    throw new ShedError("INVALID_REQUEST", `invalid image reference "${input}": ${why}`);
  };
  let rest = input.trim();
  if (rest === "") fail("it is empty");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) fail("give a reference like registry.example:5000/repo:tag, not a URL");

  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) fail(`"${d}" is not a sha256 digest (sha256:<64 hex digits>)`);
    digest = d as Digest;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`tag "${tag}" must be letters, digits, _, . or - (at most 128, not starting with . or -)`);
  }

  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0 && isDomain(rest.slice(0, slash))) {
    domain = rest.slice(0, slash);
    path = rest.slice(slash + 1);
  }
  if (!DOMAIN.test(domain)) fail(`"${domain}" is not a valid registry host[:port]`);
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (path === "") fail("the repository name is empty");
  for (const part of path.split("/")) {
    if (!PATH_COMPONENT.test(part)) {
      fail(
        part !== part.toLowerCase()
          ? "repository names must be lowercase"
          : `"${part}" is not a valid name component (lowercase letters and digits, separated by ., _, __ or -)`,
      );
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `library/${path}`;
  if (`${domain}/${path}`.length > NAME_MAX) fail(`the name is longer than ${NAME_MAX} characters`);
  if (!tag && !digest) tag = DEFAULT_TAG;
  return new Reference(domain, path, tag, digest);
}

/** Docker's rule: a first component with a dot or a port, `localhost`, or capitals is a registry host. */
function isDomain(first: string): boolean {
  return first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase();
}

/**
 * Whether `input` names its registry (`host[:port]/repo`, `localhost/repo`). A name that does
 * not (`busybox`, `shed/base:latest`) gets Docker Hub from parseReference, like Docker.
 */
export function namesRegistry(input: string): boolean {
  const rest = input.trim().split("@")[0]!;
  const slash = rest.indexOf("/");
  return slash > 0 && isDomain(rest.slice(0, slash));
}

/** Like parseReference but undefined instead of an error. */
export function tryParseReference(input: string): Reference | undefined {
  try {
    return parseReference(input);
  } catch {
    return undefined;
  }
}
