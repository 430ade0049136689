import { Testing } from "cdktf";

// cdktf's matchers (toHaveResourceWithProperties, toPlanSuccessfully, ...); settings shared by all tests are in global-setup.ts.
Testing.setupJest();
