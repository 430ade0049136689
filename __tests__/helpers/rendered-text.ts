/**
 * Where a real renderer (rsvg-convert) draws the texts of a Graphviz SVG, and which of them spill
 * out of what they belong to. Graphviz lays text out with its own table of a font's widths and
 * reads no font files, so the renderer's font can make a label wider than the box drawn around it.
 * Each text is drawn alone in a row of its own, with its own attributes, and its ink (pixels at
 * least a quarter opaque) is measured in the PNG: one rsvg-convert run per SVG.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";

/** A rectangle in the SVG's canvas units. */
export interface Rect {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** A text of the picture: what it says, what it belongs to, where its ink is, and its box. */
export interface PlacedText {
  readonly text: string;
  /** The Graphviz element it belongs to: a node, a cluster, an edge, or the graph (the title). */
  readonly kind: "node" | "cluster" | "edge" | "graph";
  /** The element's title (the node's id, cluster_<id>, or from->to). */
  readonly owner: string;
  readonly ink: Rect;
  /** The bounds of the shape drawn around it: a node's box, a cluster's frame, the canvas for the others. */
  readonly box: Rect;
}

/** Pixels per SVG unit when measuring (finer than the picture itself). */
const SCALE = 2;
/** Room for a text's ink on either side of its anchor, in ems per character: a Latin font's widest glyph is about one em. */
const EMS_PER_CHARACTER = 1;
const OPAQUE = 64;

const decode = (text: string) =>
  text
    .replace(/&#(\d+);/g, (_m, n) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
const union = (rects: readonly Rect[]): Rect => ({
  left: Math.min(...rects.map((r) => r.left)),
  top: Math.min(...rects.map((r) => r.top)),
  right: Math.max(...rects.map((r) => r.right)),
  bottom: Math.max(...rects.map((r) => r.bottom)),
});
const shifted = (r: Rect, dx: number, dy: number): Rect => ({
  left: r.left + dx,
  top: r.top + dy,
  right: r.right + dx,
  bottom: r.bottom + dy,
});

/** The bounds of the points of a polygon or path (a Bézier curve lies within its control points). */
function shapeBounds(element: string): Rect | undefined {
  const coordinates = attr(element, "points") ?? attr(element, "d");
  const numbers = (coordinates ?? "").match(/-?\d+(\.\d+)?/g)?.map(Number) ?? [];
  if (numbers.length < 4) return undefined;
  const xs = numbers.filter((_n, i) => i % 2 === 0);
  const ys = numbers.filter((_n, i) => i % 2 === 1);
  return { left: Math.min(...xs), top: Math.min(...ys), right: Math.max(...xs), bottom: Math.max(...ys) };
}

/** The pixels' opacity of an 8-bit RGBA PNG, as rsvg-convert writes it. */
export function pngAlpha(png: Buffer): { width: number; height: number; alpha: (x: number, y: number) => number } {
  if (png.subarray(1, 4).toString() !== "PNG") throw new Error("not a PNG");
  let offset = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString();
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      [width, height] = [body.readUInt32BE(0), body.readUInt32BE(4)];
      if (body[8] !== 8 || body[9] !== 6 || body[12] !== 0)
        throw new Error(
          `a PNG of bit depth ${body[8]}, colour type ${body[9]}, interlace ${body[12]}: only 8-bit RGBA without interlace is read`,
        );
    }
    if (type === "IDAT") data.push(body);
    offset += 12 + length;
  }
  const raw = new Uint8Array(zlib.inflateSync(Buffer.concat(data)));
  const stride = width * 4;
  const pixels = new Uint8Array(stride * height);
  // One loop per filter type, with no branch per byte; a Uint8Array keeps each sum modulo 256.
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const from = y * (stride + 1) + 1;
    const at = y * stride;
    const up = at - stride;
    if (filter === 0 || (filter === 2 && y === 0)) {
      for (let i = 0; i < stride; i++) pixels[at + i] = raw[from + i];
    } else if (filter === 1) {
      for (let i = 0; i < 4; i++) pixels[at + i] = raw[from + i];
      for (let i = 4; i < stride; i++) pixels[at + i] = raw[from + i] + pixels[at + i - 4];
    } else if (filter === 2) {
      for (let i = 0; i < stride; i++) pixels[at + i] = raw[from + i] + pixels[up + i];
    } else if (filter === 3) {
      for (let i = 0; i < stride; i++) {
        const left = i >= 4 ? pixels[at + i - 4] : 0;
        pixels[at + i] = raw[from + i] + ((left + (y > 0 ? pixels[up + i] : 0)) >> 1);
      }
    } else if (filter === 4) {
      for (let i = 0; i < stride; i++) {
        const a = i >= 4 ? pixels[at + i - 4] : 0;
        const b = y > 0 ? pixels[up + i] : 0;
        const c = i >= 4 && y > 0 ? pixels[up + i - 4] : 0;
        const p = a + b - c;
        const pa = p > a ? p - a : a - p;
        const pb = p > b ? p - b : b - p;
        const pc = p > c ? p - c : c - p;
        pixels[at + i] = raw[from + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    } else throw new Error(`PNG row ${y} has filter type ${filter}, which PNG does not define`);
  }
  return { width, height, alpha: (x, y) => pixels[y * stride + x * 4 + 3] };
}

/** The graph's translation (Graphviz draws in a translated group) and its canvas. */
function frameOf(svg: string): { dx: number; dy: number; canvas: Rect } {
  const viewBox = (attr(/<svg[^>]*>/.exec(svg)![0], "viewBox") ?? "").split(/\s+/).map(Number);
  const translate = /translate\(([-\d.]+)[ ,]([-\d.]+)\)/.exec(/<g id="graph0"[^>]*>/.exec(svg)![0])!;
  return { dx: Number(translate[1]), dy: Number(translate[2]), canvas: { left: 0, top: 0, right: viewBox[2], bottom: viewBox[3] } };
}

/** The graph (its title, before the first group), then each node, cluster and edge, with its title and the bounds of its shapes. */
function elements(svg: string): { kind: PlacedText["kind"]; owner: string; body: string; box: Rect }[] {
  const { dx, dy, canvas } = frameOf(svg);
  const groups = [...svg.matchAll(/<g id="[^"]*" class="(node|cluster|edge)">([\s\S]*?)<\/g>/g)].map((m) => ({
    kind: m[1] as PlacedText["kind"],
    body: m[2],
  }));
  const graphBody = svg.slice(0, svg.search(/<g id="[^"]*" class="(node|cluster|edge)">/));
  return [{ kind: "graph" as const, body: graphBody }, ...groups].map(({ kind, body }) => {
    const shapes = [...body.matchAll(/<(?:polygon|path)\b[^>]*>/g)].map((m) => shapeBounds(m[0])).filter((r): r is Rect => r !== undefined);
    const box = (kind === "node" || kind === "cluster") && shapes.length > 0 ? shifted(union(shapes), dx, dy) : canvas;
    return { kind, owner: decode(/<title>([^<]*)<\/title>/.exec(body)?.[1] ?? ""), body, box };
  });
}

/** Every text of a Graphviz SVG with the ink rsvg-convert gives it, in the canvas's units. */
export function placedTexts(svg: string): PlacedText[] {
  const { dx, dy } = frameOf(svg);
  const found = elements(svg).flatMap(({ kind, owner, body, box }) =>
    [...body.matchAll(/(<text\b[^>]*>)([^<]*)<\/text>/g)].map((m) => ({ kind, owner, tag: m[1], text: decode(m[2]), box })),
  );

  // Each text alone in a row, its anchor moved by a whole unit to one column (the pixel grid stays where it was
  // relative to the text, so the ink is the same): the ink found in the row is that text's, in a narrow picture.
  const fontSize = (tag: string) => Number(attr(tag, "font-size") ?? 14);
  const rows = found.map((f) => Math.ceil(2 * fontSize(f.tag)) + 4);
  const tops = rows.map((_h, i) => rows.slice(0, i).reduce((a, b) => a + b, 0));
  const baselineOf = (i: number) => tops[i] + rows[i] * 0.7;
  const total = tops[tops.length - 1] + rows[rows.length - 1];
  const origin = Math.ceil(Math.max(...found.map((f) => fontSize(f.tag) * EMS_PER_CHARACTER * (f.text.length + 1))));
  const xs = found.map((f) => Number(attr(f.tag, "x")) + dx);
  const shifts = xs.map((x) => Math.floor(x) - origin);
  const drawn = found.map(
    (f, i) =>
      `${f.tag.replace(/\sx="[^"]*"/, ` x="${xs[i] - shifts[i]}"`).replace(/\sy="[^"]*"/, ` y="${baselineOf(i)}"`)}${escapeXml(f.text)}</text>`,
  );
  const measure = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * origin * SCALE}" height="${total * SCALE}" viewBox="0 0 ${2 * origin} ${total}">`,
    ...drawn,
    "</svg>",
  ].join("\n");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "texts-"));
  try {
    fs.writeFileSync(path.join(dir, "texts.svg"), measure);
    const r = spawnSync("rsvg-convert", ["-o", path.join(dir, "texts.png"), path.join(dir, "texts.svg")], { encoding: "utf8" });
    if (r.error) throw new Error(`rsvg-convert could not run (${r.error.message}); install it with apt-get install librsvg2-bin`);
    if (r.status !== 0) throw new Error(`rsvg-convert failed: ${r.stderr}`);
    const png = pngAlpha(fs.readFileSync(path.join(dir, "texts.png")));
    return found.map((f, i) => {
      let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
      const last = Math.min(png.height, Math.ceil((tops[i] + rows[i]) * SCALE));
      for (let y = Math.floor(tops[i] * SCALE); y < last; y++) {
        for (let x = 0; x < png.width; x++) {
          if (png.alpha(x, y) < OPAQUE) continue;
          if (x < left) left = x;
          if (x + 1 > right) right = x + 1;
          if (y < top) top = y;
          if (y + 1 > bottom) bottom = y + 1;
        }
      }
      if (left === Infinity)
        return { kind: f.kind, owner: f.owner, text: f.text, box: f.box, ink: { left: 0, top: 0, right: 0, bottom: 0 } };
      if (left === 0 || right === png.width)
        throw new Error(`"${f.text}" is wider than the room measured for it (${origin} units each side)`);
      const y = Number(attr(f.tag, "y")) + dy - baselineOf(i);
      const ink = { left: left / SCALE + shifts[i], right: right / SCALE + shifts[i], top: top / SCALE + y, bottom: bottom / SCALE + y };
      return { kind: f.kind, owner: f.owner, text: f.text, box: f.box, ink };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const inside = (inner: Rect, outer: Rect, margin: number) =>
  inner.left >= outer.left + margin &&
  inner.right <= outer.right - margin &&
  inner.top >= outer.top + margin &&
  inner.bottom <= outer.bottom - margin;
const overlap = (a: Rect, b: Rect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const show = (r: Rect) => `${r.left.toFixed(1)},${r.top.toFixed(1)} to ${r.right.toFixed(1)},${r.bottom.toFixed(1)}`;

/** Points along each edge's line (Graphviz draws it as cubic Bézier curves), by the edge's title. */
function edgeLines(svg: string, dx: number, dy: number): { owner: string; points: [number, number][] }[] {
  return [...svg.matchAll(/<g id="[^"]*" class="edge">([\s\S]*?)<\/g>/g)].map((m) => {
    const numbers = (attr(/<path\b[^>]*>/.exec(m[1])?.[0] ?? "", "d") ?? "").match(/-?\d+(\.\d+)?/g)?.map(Number) ?? [];
    const controls: [number, number][] = [];
    for (let i = 0; i + 1 < numbers.length; i += 2) controls.push([numbers[i] + dx, numbers[i + 1] + dy]);
    const points: [number, number][] = [];
    for (let i = 0; i + 3 < controls.length; i += 3) {
      const [a, b, c, d] = controls.slice(i, i + 4);
      for (let step = 0; step <= 50; step++) {
        const t = step / 50;
        const u = 1 - t;
        const at = (k: 0 | 1) => u * u * u * a[k] + 3 * u * u * t * b[k] + 3 * u * t * t * c[k] + t * t * t * d[k];
        points.push([at(0), at(1)]);
      }
    }
    return { owner: decode(/<title>([^<]*)<\/title>/.exec(m[1])?.[1] ?? ""), points };
  });
}

/**
 * What a person would see as broken in the rendered SVG: a text whose ink leaves its node's box,
 * its cluster's frame or the canvas; a text drawn across another node's or cluster's border; two
 * texts whose ink overlaps; and an edge drawn across a node's or a cluster's text (edges may cross
 * one another's labels: Graphviz places those freely).
 */
export function textProblems(svg: string): string[] {
  const texts = placedTexts(svg);
  const { dx, dy } = frameOf(svg);
  const lines = edgeLines(svg, dx, dy);
  const frames = elements(svg).filter((e) => e.kind === "node" || e.kind === "cluster");
  const problems: string[] = [];
  for (const t of texts) {
    // A box's border is a line about one unit wide: ink must stay off it.
    if (!inside(t.ink, t.box, t.kind === "node" || t.kind === "cluster" ? 1 : 0)) {
      problems.push(
        `"${t.text}" (${t.kind} ${t.owner}) is drawn at ${show(t.ink)}, outside ${t.kind === "node" || t.kind === "cluster" ? `its ${t.kind}'s box` : "the canvas"} ${show(t.box)}`,
      );
    }
  }
  for (const t of texts) {
    for (const f of frames.filter((x) => x.owner !== t.owner && overlap(t.ink, x.box) && !inside(t.ink, x.box, 0))) {
      problems.push(`"${t.text}" (${t.kind} ${t.owner}) is drawn across the border of ${f.kind} ${f.owner}`);
    }
  }
  for (const t of texts.filter((x) => x.kind === "node" || x.kind === "cluster")) {
    for (const line of lines.filter((l) =>
      l.points.some(([x, y]) => x > t.ink.left && x < t.ink.right && y > t.ink.top && y < t.ink.bottom),
    )) {
      problems.push(`"${t.text}" (${t.kind} ${t.owner}) is crossed by the edge ${line.owner}`);
    }
  }
  texts.forEach((a, i) =>
    texts.slice(i + 1).forEach((b) => {
      if (overlap(a.ink, b.ink))
        problems.push(
          `"${a.text}" (${a.kind} ${a.owner}) and "${b.text}" (${b.kind} ${b.owner}) overlap at ${show(a.ink)} and ${show(b.ink)}`,
        );
    }),
  );
  return problems;
}
