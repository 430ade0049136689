import { Testing } from "cdktf";
import * as v8 from "v8";
import * as vm from "vm";

// cdktf's matchers (toHaveResourceWithProperties, toPlanSuccessfully, ...); settings shared by all tests are in global-setup.ts.
Testing.setupJest();

// V8's collector: a context made after this flag holds `gc`, since Jest starts its workers without --expose-gc.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

// Source maps for errors only: cdktf records a whole stack trace for every token it makes, a plain object's stack that
// no test reads, and Jest's source-map-support mapping each of those frames took about a tenth of the suites' CPU.
const mapStack = Error.prepareStackTrace;
Error.prepareStackTrace = (error, frames) =>
  mapStack !== undefined && Object.prototype.toString.call(error) === "[object Error]"
    ? mapStack(error, frames)
    : [String(error), ...frames.map((frame) => `    at ${frame}`)].join("\n");

// Each file's garbage collected at its end, since a worker's heap otherwise grows to about 1 GB, whose teardown outlasts the 0.5 s Jest gives a worker to exit on a loaded machine.
afterAll(() => collectGarbage());
