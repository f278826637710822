import { UnknownValueError } from "./sdk-proxy";

/**
 * Lets a policy keep checking the parts of a resource (or stack) whose values are known when one
 * part reads a value that is unknown during preview.
 *
 * Why: the SDK turns an UnknownValueError into a single advisory "can't run policy during
 * preview" note. Thrown from the first unknown container, it would also hide every violation
 * that the known containers prove. So each independent part runs in `attempt`, proven
 * violations are reported at the policy's own level, and `settle` rethrows the first unknown so
 * the SDK still adds its advisory note. An unknown therefore never satisfies a check: it either
 * yields that note at preview or is checked for real by `pulumi up`, when inputs are known.
 */
export class DeferredUnknowns {
  private first: UnknownValueError | undefined;

  /** Returns false when the part stopped at an unknown value. */
  attempt(part: () => void): boolean {
    try {
      part();
      return true;
    } catch (error) {
      if (!(error instanceof UnknownValueError)) {
        throw error;
      }
      this.first ??= error;
      return false;
    }
  }

  settle(): void {
    if (this.first) {
      throw this.first;
    }
  }
}
