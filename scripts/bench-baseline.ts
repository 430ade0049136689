/** The baseline of `npm run bench`: one empty stack, built with the project's toolchain. */
import { App, TerraformStack } from "cdktf";

const app = new App();
new TerraformStack(app, "baseline");
app.synth();
