/**
 * A model call that failed, in words that say what happened and what to do. Tool handlers throw it;
 * the SDK renders it as an `isError` result, which the model reading it can act on.
 */
export class ToolFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolFailure";
  }
}
