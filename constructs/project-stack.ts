import { TerraformStack } from "cdktf";

/** A stack's Terraform JSON, as cdktf types it. */
type StackJson = ReturnType<TerraformStack["toTerraform"]>;

/**
 * The base of the project's stacks: a stack resolves to Terraform JSON once, for the policy pack and for synth alike.
 * cdktf's second pass exists for references between stacks, which this project never makes; adding a construct afterwards resolves afresh.
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
