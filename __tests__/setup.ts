import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";

Testing.setupJest();

// Testing.fullSynth and Testing.app leave folders in the temporary directory: keep them in one
// disposable place per worker, removed by __tests__/global-teardown.ts.
const tmp = path.join(__dirname, "..", ".tmp", "jest", `worker-${process.env.JEST_WORKER_ID ?? "0"}`);
fs.mkdirSync(tmp, { recursive: true });
process.env.TMPDIR = tmp;
