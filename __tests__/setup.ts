import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";

Testing.setupJest();

// Testing.fullSynth and Testing.app leave folders in the temporary directory: keep them in one
// disposable place per worker, removed by __tests__/global-teardown.ts.
const tmp = path.join(__dirname, "..", ".tmp", "jest", `worker-${process.env.JEST_WORKER_ID ?? "0"}`);
fs.mkdirSync(tmp, { recursive: true });
process.env.TMPDIR = tmp;

// The user's own environments/ must not change what the tests see: every command a test runs
// (they inherit this environment) reads an empty folder of user environments unless it names one.
const noEnvironments = path.join(tmp, "no-environments");
fs.mkdirSync(noEnvironments, { recursive: true });
process.env.PROXY_ENVIRONMENTS_DIR = noEnvironments;

// The AWS SDK's notice that its 2027 releases need Node 22 says nothing about the code under test.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
