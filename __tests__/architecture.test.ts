import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..");
/**
 * The folders and what each may import:
 * - main.ts, constructs/, lib/: what synthesis uses; never what proves or operates it.
 * - lib/: pure helpers, below constructs/.
 * - operations/: operators' tools (deploy options, the orphan sweep): lib/ only.
 * - tools/: generators (schema, tables, costs, diagrams); proof/: what proves the stacks, the
 *   emulator (Python) included; scripts/: entry points only, importing no other script.
 */
const FOLDERS = ["constructs", "lib", "operations", "proof", "tools", "scripts"];

/** Every TypeScript file of the project outside the tests, relative to the root. */
function projectFiles(): string[] {
  const walk = (dir: string): string[] =>
    fs
      .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
  return ["main.ts", ...FOLDERS.flatMap(walk)];
}

/** The project files a file imports (type-only imports included), resolved like Node does. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), "utf8"), true, true);
  return importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => {
      const base = path.join(path.dirname(file), name);
      const found = [`${base}.ts`, path.join(base, "index.ts")].find((candidate) => fs.existsSync(path.join(ROOT, candidate)));
      if (!found) throw new Error(`${file} imports ${name}, which is no TypeScript file of the project`);
      return found;
    });
}

type Graph = ReadonlyMap<string, readonly string[]>;
const wing = (file: string) => file.split(/[\\/]/)[0];

/** Imports from a file in one of `from` to a file in one of `to`, as "a -> b". */
function arrows(graph: Graph, from: readonly string[], to: readonly string[]): string[] {
  return [...graph].flatMap(([file, imports]) =>
    from.includes(wing(file)) ? imports.filter((i) => to.includes(wing(i))).map((i) => `${file} -> ${i}`) : [],
  );
}

/** Every import cycle found by a depth-first walk, as "a -> b -> a". */
function cycles(graph: Graph): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      found.push([...stack.slice(stack.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    stack.push(file);
    graph.get(file)?.forEach(visit);
    stack.pop();
    state.set(file, "done");
  };
  [...graph.keys()].forEach(visit);
  return found;
}

/** The files of `wings` that no chain of imports from main.ts reaches. */
function unreached(graph: Graph, wings: readonly string[]): string[] {
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    graph.get(file)?.forEach(visit);
  };
  visit("main.ts");
  return [...graph.keys()].filter((f) => wings.includes(wing(f)) && !reached.has(f));
}

/** Python files of the project outside proof/ (the emulator is part of the proof). */
function pythonOutsideProof(root: string): string[] {
  const skip = new Set(["node_modules", ".git", ".tmp", "cdktf.out", "cdktf.examples.out", "cdktf.user.out", ".stryker-tmp", "proof"]);
  const walk = (dir: string): string[] =>
    fs
      .readdirSync(path.join(root, dir), { withFileTypes: true })
      .filter((e) => !skip.has(e.name))
      .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".py") ? [path.join(dir, e.name)] : []));
  return walk("");
}

/** Counts each Python function's lines as ESLint's max-lines-per-function does: blank lines, comments and docstrings left out. */
const PYTHON_LENGTHS = `
import ast, sys
limit = int(sys.argv[1])
for path in sys.argv[2:]:
    source = open(path, encoding="utf-8").read()
    lines = source.splitlines()
    tree = ast.parse(source, path)
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docs.update(range(body[0].lineno, body[0].end_lineno + 1))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            counted = [i for i in range(node.lineno, node.end_lineno + 1) if i not in docs and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#")]
            if len(counted) > limit:
                print(f"{path}:{node.lineno} {node.name} ({len(counted)} lines)")
`;

/** The Python functions of `files` (relative to `root`) longer than `max` lines, as "file:line name (n lines)". */
function longPythonFunctions(root: string, files: readonly string[], max = 80): string[] {
  const out = execFileSync("python3", ["-c", PYTHON_LENGTHS, String(max), ...files], { cwd: root, encoding: "utf8" });
  return out.split("\n").filter(Boolean);
}

const graph: Graph = new Map(projectFiles().map((f) => [f, importsOf(f)]));

describe("the project's layers", () => {
  it("keeps what synthesis uses (main.ts, constructs/, lib/) apart from what proves or operates it", () => {
    expect(arrows(graph, ["main.ts", "constructs", "lib"], ["proof", "tools", "scripts", "operations"])).toEqual([]);
  });

  it("has operations/ rely on lib/ alone: an operator's tool needs neither the proof nor the generators", () => {
    expect(arrows(graph, ["operations"], ["constructs", "proof", "tools", "scripts"])).toEqual([]);
  });

  it("keeps Python, the emulator's patches and reader, under proof/", () => {
    expect(pythonOutsideProof(ROOT)).toEqual([]);
  });

  it("holds Python to the same 80-line limit on functions as ESLint holds TypeScript", () => {
    const files = execFileSync("git", ["ls-files", "*.py"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
    expect(files).toContain(path.join("proof", "emulator", "emulator_api.py"));
    expect(longPythonFunctions(ROOT, files)).toEqual([]);
  });

  it("keeps lib/ below constructs/: pure helpers never reach for constructs", () => {
    expect(arrows(graph, ["lib"], ["constructs"])).toEqual([]);
  });

  it("has scripts/ import no other script: entry points only", () => {
    expect(arrows(graph, ["scripts"], ["scripts"])).toEqual([]);
  });

  it("holds in constructs/ and lib/ only what main.ts reaches when it synthesizes", () => {
    expect(unreached(graph, ["constructs", "lib"])).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("would notice an arrow in the wrong direction, a cycle and a stray file", () => {
    const bad: Graph = new Map([
      ["main.ts", ["lib/a.ts"]],
      ["lib/a.ts", ["proof/b.ts"]],
      ["proof/b.ts", ["lib/a.ts"]],
      ["lib/stray.ts", []],
    ]);
    expect(arrows(bad, ["lib"], ["proof"])).toEqual(["lib/a.ts -> proof/b.ts"]);
    expect(cycles(bad)).toEqual(["lib/a.ts -> proof/b.ts -> lib/a.ts"]);
    expect(unreached(bad, ["lib"])).toEqual(["lib/stray.ts"]);
    const operating: Graph = new Map([["operations/sweep.ts", ["proof/moto.ts", "lib/naming.ts"]]]);
    expect(arrows(operating, ["operations"], ["constructs", "proof", "tools", "scripts"])).toEqual([
      "operations/sweep.ts -> proof/moto.ts",
    ]);
  });

  it("would notice Python outside proof/", () => {
    const root = fs.mkdtempSync(path.join(require("os").tmpdir(), "arch-"));
    fs.mkdirSync(path.join(root, "scripts"));
    fs.mkdirSync(path.join(root, "proof", "emulator"), { recursive: true });
    fs.writeFileSync(path.join(root, "scripts", "stray.py"), "");
    fs.writeFileSync(path.join(root, "proof", "emulator", "kept.py"), "");
    expect(pythonOutsideProof(root)).toEqual([path.join("scripts", "stray.py")]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("would notice a Python function over 80 lines, not counting blank lines, comments and docstrings", () => {
    const root = fs.mkdtempSync(path.join(require("os").tmpdir(), "arch-"));
    const body = (n: number) => Array.from({ length: n }, (_, i) => `    x${i} = ${i}\n\n    # a comment\n`).join("");
    const short = `def short():\n    """A docstring\n    over two lines."""\n${body(79)}`;
    const long = `def long():\n${body(80)}`;
    fs.writeFileSync(path.join(root, "fake.py"), `${short}\n\n${long}`);
    expect(longPythonFunctions(root, ["fake.py"])).toEqual([`fake.py:${short.split("\n").length + 2} long (81 lines)`]);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
