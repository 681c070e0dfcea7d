import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatBytes, formatMilli, isValidQuantity, parseQuantity, QuantityParseError, quantityToMilli, quantityToUnits } from "./quantity.js";
import { scaledValueFromIntOrPercent } from "./intstr.js";

describe("quantities", () => {
  it("parse decimal, binary and exponent suffixes", () => {
    assert.equal(quantityToMilli("100m"), 100);
    assert.equal(quantityToMilli("0.5"), 500);
    assert.equal(quantityToMilli("2"), 2000);
    assert.equal(quantityToUnits("128Mi"), 128 * 1024 * 1024);
    assert.equal(quantityToUnits("1G"), 1e9);
    assert.equal(quantityToUnits("1e3"), 1000);
    assert.equal(parseQuantity("1Ki"), 1024);
  });

  it("round fractional milli-values up as Kubernetes does", () => {
    assert.equal(quantityToMilli("0.0001"), 1);
  });

  it("reject malformed text with Kubernetes' message", () => {
    assert.ok(!isValidQuantity("abc"));
    assert.ok(!isValidQuantity("1Zi"));
    assert.throws(() => parseQuantity("x"), QuantityParseError);
  });

  it("format milli-cores and bytes like kubectl top", () => {
    assert.equal(formatMilli(250), "250m");
    assert.equal(formatMilli(2000), "2");
    assert.equal(formatBytes(128 * 1024 * 1024), "128Mi");
    assert.equal(formatBytes(1000), "1000");
  });
});

describe("int-or-percent values", () => {
  it("scale percentages of a total, rounding as asked", () => {
    assert.equal(scaledValueFromIntOrPercent("25%", 10, true), 3);
    assert.equal(scaledValueFromIntOrPercent("25%", 10, false), 2);
    assert.equal(scaledValueFromIntOrPercent(4, 10, true), 4);
    assert.equal(scaledValueFromIntOrPercent(undefined, 10, true), 0);
  });
});
