import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiStatusError, isApiStatusError, statusConflict, statusForbidden, statusInvalid, statusNotFound, statusResourceExpired } from "./errors.js";
import { fieldErrors } from "./validation/field.js";

describe("Status errors", () => {
  it("invalid object gives the 422 body kubectl prints, with one cause per field error", () => {
    const status = statusInvalid({ group: "apps", kind: "Deployment" }, "x", [fieldErrors.invalid("spec.replicas", -1, "must be greater than or equal to 0")]);
    assert.deepEqual(status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      reason: "Invalid",
      details: {
        name: "x",
        group: "apps",
        kind: "Deployment",
        causes: [{ reason: "FieldValueInvalid", message: "Invalid value: -1: must be greater than or equal to 0", field: "spec.replicas" }],
      },
      code: 422,
    });
  });

  it("several field errors are listed in brackets and a core kind has no group", () => {
    const status = statusInvalid({ group: "", kind: "Pod" }, "p", [
      fieldErrors.required("spec.containers[0].name"),
      fieldErrors.required("spec.containers[0].image"),
    ]);
    assert.equal(status.message, 'Pod "p" is invalid: [spec.containers[0].name: Required value, spec.containers[0].image: Required value]');
    assert.equal(status.details?.group, undefined);
    assert.equal(status.details?.causes?.length, 2);
  });

  it("not found, conflict, forbidden and expired use Kubernetes' wording and codes", () => {
    assert.equal(statusNotFound({ group: "apps", resource: "deployments" }, "web").message, 'deployments.apps "web" not found');
    assert.equal(statusNotFound({ group: "", resource: "pods" }, "p").code, 404);
    const conflict = statusConflict({ group: "", resource: "pods" }, "p");
    assert.equal(conflict.code, 409);
    assert.equal(
      conflict.message,
      'Operation cannot be fulfilled on pods "p": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.equal(
      statusForbidden({ group: "", resource: "pods" }, "", 'User "bob" cannot list resource "pods" in API group "" in the namespace "default"').message,
      'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    const expired = statusResourceExpired("too old resource version: 5 (120)");
    assert.equal(expired.code, 410);
    assert.equal(expired.reason, "Expired");
  });

  it("ApiStatusError carries the status and is recognised by reason", () => {
    const error = new ApiStatusError(statusNotFound({ group: "", resource: "pods" }, "p"));
    assert.equal(error.name, "ApiStatusError");
    assert.equal(error.code, 404);
    assert.ok(isApiStatusError(error, "NotFound"));
    assert.ok(!isApiStatusError(error, "Conflict"));
    assert.ok(!isApiStatusError(new Error("x")));
  });
});
