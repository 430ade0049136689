import * as fs from "fs";
import * as path from "path";

export default function globalTeardown(): void {
  fs.rmSync(path.join(__dirname, "..", ".tmp", "jest"), { recursive: true, force: true });
}
