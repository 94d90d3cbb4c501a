import { describe, expect, it } from "vitest";
import { repoName, repoUrl } from "./repo-url.ts";

describe("--repo", () => {
  it("expands owner/repo to GitHub over https", () => {
    expect(repoUrl("charliek/shed")).toBe("https://github.com/charliek/shed.git");
    expect(repoUrl("a/b.git")).toBe("https://github.com/a/b.git");
  });
  it("keeps URLs and scp-like addresses", () => {
    for (const u of ["https://example.test/x/y.git", "ssh://git@host:22/x.git", "file:///srv/repo", "git@github.com:user/repo.git"]) {
      expect(repoUrl(u)).toBe(u);
    }
  });
  it("refuses option-like, spaced and unknown-scheme values with what to give instead", () => {
    expect(() => repoUrl("--upload-pack=touch x")).toThrow(/not a repository/);
    expect(() => repoUrl("ext::sh -c id")).toThrow(/not a repository/);
    expect(() => repoUrl("javascript://x")).toThrow(/https, http, ssh, git or file/);
    expect(() => repoUrl("just-a-word")).toThrow(/owner\/repo/);
  });
  it("names the clone", () => {
    expect(repoName("https://github.com/a/b.git")).toBe("b");
    expect(repoName("git@h:o/r.git")).toBe("r");
    expect(repoName("file:///srv/repo/")).toBe("repo");
  });
});
