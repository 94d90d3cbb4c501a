import { describe, expect, it } from "vitest";
import { parseSyncFile, selectFeatures } from "./sync-file.ts";

const text = `
features:
  certs:
    description: dev CA
    paths:
      - source: ~/.local/share/mkcert/rootCA.pem
        target: /usr/local/share/ca-certificates/mkcert.crt
    postSync:
      - run: update-ca-certificates
  dotfiles:
    paths:
      - { source: ~/.gitconfig, target: ~/.gitconfig }
      - { source: /etc/skel, target: /opt/skel, include: "*.sh", exclude: [".cache"] }
profiles:
  default: { features: [certs] }
  full: { features: [certs, dotfiles] }
`;

describe("sync.yaml", () => {
  it("reads features and profiles; a profile or feature selects what runs", () => {
    const file = parseSyncFile(text, "/c/sync.yaml");
    expect(selectFeatures(file, "s", {}).map(([n]) => n)).toEqual(["certs"]);
    expect(selectFeatures(file, "s", { profile: "full" }).map(([n]) => n)).toEqual(["certs", "dotfiles"]);
    expect(selectFeatures(file, "s", { feature: "dotfiles" })[0]![1].paths[1]).toEqual({
      source: "/etc/skel",
      target: "/opt/skel",
      include: "*.sh",
      exclude: [".cache"],
    });
  });

  it("names the file, key and what is expected when wrong", () => {
    expect(() => parseSyncFile("features:\n  a:\n    paths:\n      - { source: rel, target: /x }\n", "/c/sync.yaml")).toThrow(
      /\/c\/sync\.yaml: .*features\.a\.paths\.0\.source.*absolute path on this machine/,
    );
    expect(() => parseSyncFile("profiles:\n  default: { features: [nope] }\n", "/c/sync.yaml")).toThrow(
      'profiles.default names feature "nope", which is not under features',
    );
    const file = parseSyncFile(text, "s");
    expect(() => selectFeatures(file, "s", { profile: "x" })).toThrow('no profile "x" in s (profiles: default, full)');
  });
});
