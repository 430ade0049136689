import { TerraformStack } from "cdktf";

/**
 * The base of the project's stacks: a stack resolves to Terraform JSON once. The policy pack reads
 * `toTerraform()` before anything is written, and app.synth() then writes the same result instead
 * of resolving every token a second time. A construct added afterwards makes it resolve afresh.
 */
export abstract class ProjectStack extends TerraformStack {
  private resolved?: { constructs: number; json: any };

  public toTerraform(): any {
    const constructs = this.node.findAll().length;
    if (this.resolved?.constructs !== constructs) this.resolved = { constructs, json: super.toTerraform() };
    return this.resolved.json;
  }
}
