import { TerraformStack } from "cdktf";

/** A stack's Terraform JSON, as cdktf types it. */
type StackJson = ReturnType<TerraformStack["toTerraform"]>;

/**
 * The base of the project's stacks: a stack resolves to Terraform JSON once. The policy pack reads
 * `toTerraform()` before anything is written, and app.synth() then writes the same result instead
 * of resolving every token again in `prepareStack()` and `toTerraform()`. A construct added
 * afterwards makes it resolve afresh. cdktf's preparing pass exists for references between stacks,
 * which this project never makes: each environment and bootstrap stack stands alone.
 */
export abstract class ProjectStack extends TerraformStack {
  private resolved?: { constructs: number; json: StackJson };

  public toTerraform(): StackJson {
    if (!this.isResolved()) this.resolved = { constructs: this.constructCount(), json: super.toTerraform() };
    return this.resolved!.json;
  }

  public prepareStack(): void {
    if (this.isResolved()) this.ensureBackendExists();
    else super.prepareStack();
  }

  private isResolved(): boolean {
    return this.resolved?.constructs === this.constructCount();
  }

  private constructCount(): number {
    return this.node.findAll().length;
  }
}
