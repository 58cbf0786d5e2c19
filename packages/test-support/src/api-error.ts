import assert from "node:assert/strict";
import OpenAI from "openai";

/** The official SDK's APIError a call must fail with (the test fails if it succeeds or fails otherwise). */
export async function apiErrorOf(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${err}`);
    return err;
  }
  assert.fail("expected the call to fail");
}
