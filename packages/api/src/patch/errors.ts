/** Why a patch could not be applied. `statusCode` is what Kubernetes answers: 400 for a malformed patch, 422 for one that does not apply. */
export class PatchError extends Error {
  override readonly name = "PatchError";
  constructor(
    message: string,
    readonly statusCode: 400 | 422 = 400,
  ) {
    super(message);
  }
}
