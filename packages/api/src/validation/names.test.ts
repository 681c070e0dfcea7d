import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  nameIsDnsSubdomain,
  isValidIp,
} from "./names.js";
import { errorString, fieldErrors, formatBadValue, GoValue } from "./field.js";

describe("name rules", () => {
  it("DNS-1123 subdomains accept dotted lower-case names up to 253 characters", () => {
    assert.deepEqual(isDns1123Subdomain("web.example-1.com"), []);
    assert.deepEqual(isDns1123Subdomain("a".repeat(253)), []);
    assert.deepEqual(isDns1123Subdomain("a".repeat(254)), ["must be no more than 253 characters"]);
    assert.match(isDns1123Subdomain("Web")[0] ?? "", /^a lowercase RFC 1123 subdomain must consist of/);
    assert.equal(isDns1123Subdomain("-web").length, 1);
  });

  it("DNS-1123 labels have no dots and at most 63 characters", () => {
    assert.deepEqual(isDns1123Label("my-name"), []);
    assert.equal(isDns1123Label("a.b").length, 1);
    assert.deepEqual(isDns1123Label("a".repeat(64)), ["must be no more than 63 characters"]);
  });

  it("DNS-1035 labels (Service names) must start with a letter", () => {
    assert.deepEqual(isDns1035Label("web"), []);
    assert.match(isDns1035Label("1web")[0] ?? "", /start with an alphabetic character/);
  });

  it("generateName is checked with its trailing dash masked", () => {
    assert.deepEqual(nameIsDnsSubdomain("web-", true), []);
    assert.equal(nameIsDnsSubdomain("web-", false).length, 1);
  });

  it("label keys take an optional DNS prefix and label values may be empty", () => {
    assert.deepEqual(isQualifiedName("app.kubernetes.io/name"), []);
    assert.deepEqual(isQualifiedName("app"), []);
    assert.deepEqual(isQualifiedName("/app"), ["prefix part must be non-empty"]);
    assert.match(isQualifiedName("Example.com/app")[0] ?? "", /^prefix part a lowercase RFC 1123 subdomain/);
    assert.equal(isQualifiedName("a/b/c").length, 1);
    assert.deepEqual(isValidLabelValue(""), []);
    assert.deepEqual(isValidLabelValue("v1.2_3"), []);
    assert.match(isValidLabelValue("-x")[0] ?? "", /^a valid label must be an empty string or consist of/);
  });

  it("port names are IANA service names with at least one letter", () => {
    assert.deepEqual(isValidPortName("http"), []);
    assert.ok(isValidPortName("8080").includes("must contain at least one letter (a-z)"));
    assert.ok(isValidPortName("a--b").includes("must not contain consecutive hyphens"));
    assert.ok(isValidPortName("averyveryverylongname").includes("must be no more than 15 characters"));
  });

  it("IP addresses in both families are recognised", () => {
    assert.ok(isValidIp("10.0.0.1"));
    assert.ok(isValidIp("fd00::1"));
    assert.ok(!isValidIp("10.0.0.256"));
    assert.ok(!isValidIp("web"));
  });
});

describe("field errors", () => {
  it("are printed as field.Error prints them", () => {
    assert.equal(errorString(fieldErrors.invalid("metadata.name", "Web", "bad")), 'metadata.name: Invalid value: "Web": bad');
    assert.equal(errorString(fieldErrors.required("spec.containers")), "spec.containers: Required value");
    assert.equal(
      errorString(fieldErrors.required("metadata.name", "name or generateName is required")),
      "metadata.name: Required value: name or generateName is required",
    );
    assert.equal(
      errorString(fieldErrors.notSupported("spec.restartPolicy", "Sometimes", ["Always", "Never", "OnFailure"])),
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
    );
    assert.equal(errorString(fieldErrors.duplicate("spec.containers[1].name", "web")), 'spec.containers[1].name: Duplicate value: "web"');
    assert.equal(
      errorString(fieldErrors.forbidden("metadata.namespace", "not allowed on this type")),
      "metadata.namespace: Forbidden: not allowed on this type",
    );
    assert.equal(
      errorString(fieldErrors.notFound("spec.containers[0].volumeMounts[0].name", "data")),
      'spec.containers[0].volumeMounts[0].name: Not found: "data"',
    );
  });

  it("render bad values like Go's fmt", () => {
    assert.equal(formatBadValue(3), "3");
    assert.equal(formatBadValue(true), "true");
    assert.equal(formatBadValue(null), "null");
    assert.equal(formatBadValue({ b: "2", a: "1" }), 'map[string]string{"a":"1", "b":"2"}');
    assert.equal(formatBadValue(["a", "b"]), '[]string{"a", "b"}');
    assert.equal(formatBadValue(new GoValue("v1.LabelSelector{}")), "v1.LabelSelector{}");
  });
});
