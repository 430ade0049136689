import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md"));
const pages: [string, string][] = [
  ["README.md", readme],
  ["environments/README.md", fs.readFileSync(path.join(ROOT, "environments", "README.md"), "utf8")],
  ...docs.map((f): [string, string] => [`docs/${f}`, fs.readFileSync(path.join(ROOT, "docs", f), "utf8")]),
];
const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts);

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");

describe("README.md, the user's journey", () => {
  it("stays short: under 30 KB, with deploying reached in its first 150 lines", () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(30 * 1024);
    const deployAt = readme.split("\n").findIndex((l) => /^## Deploy/.test(l));
    expect(deployAt).toBeGreaterThan(0);
    expect(deployAt).toBeLessThan(150);
  });

  it("has its sections in the order a user needs them", () => {
    const order = [
      "Quick start",
      "Your environment",
      "Deploy",
      "Check it works",
      "Change it",
      "Tear it down",
      "What it costs",
      "Settings",
      "Outputs",
      "How it is proven",
    ];
    const headings = readme
      .split("\n")
      .filter((l) => l.startsWith("## "))
      .map((l) => l.slice(3).trim());
    expect(order.map((h) => headings.findIndex((x) => x.startsWith(h)))).toEqual(
      [...order.map((h) => headings.findIndex((x) => x.startsWith(h)))].sort((a, b) => a - b),
    );
    expect(order.every((h) => headings.some((x) => x.startsWith(h)))).toBe(true);
  });

  it("ships the licence package.json names", () => {
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).license).toBe("MIT");
    expect(fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License/);
  });
});

describe.each(pages)("%s", (name, text) => {
  it("names only npm scripts that exist", () => {
    const named = [...text.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
    expect(named.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it("links only files and headings that exist", () => {
    const dir = path.dirname(path.join(ROOT, name));
    const broken = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1])
      .filter((link) => !/^[a-z]+:/.test(link))
      .filter((link) => {
        const [file, anchor] = link.split("#");
        const target = file ? path.resolve(dir, file) : path.join(ROOT, name);
        if (!fs.existsSync(target)) return true;
        if (!anchor || !target.endsWith(".md")) return false;
        const headings = fs
          .readFileSync(target, "utf8")
          .split("\n")
          .filter((l) => /^#+ /.test(l))
          .map((l) => anchorOf(l.replace(/^#+ /, "")));
        return !headings.includes(anchor);
      });
    expect(broken).toEqual([]);
  });
});
