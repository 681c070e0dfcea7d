import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatLabelSelector, labelSelectorMatches, LabelSelectorParseError, parseLabelSelector, selectorFromSet, Selector } from "./labels.js";
import { FieldSelectorParseError, FieldSelectorUnsupportedError, parseFieldSelector } from "./fields.js";
import { findResource } from "../registry.js";
import type { KubeObject } from "../types/meta/v1.js";

const labels = { app: "web", tier: "frontend", version: "3" };

describe("label selectors", () => {
  it("match equality, inequality, set and existence requirements, comma meaning AND", () => {
    const cases: [string, boolean][] = [
      ["", true],
      ["app=web", true],
      ["app==web", true],
      ["app!=web", false],
      ["app!=db", true],
      ["missing!=x", true],
      ["tier in (frontend, backend)", true],
      ["tier notin (frontend)", false],
      ["missing notin (a)", true],
      ["app", true],
      ["!app", false],
      ["!missing", true],
      ["app=web,tier=backend", false],
      ["app=web, tier in (frontend)", true],
      ["version>2", true],
      ["version<3", false],
    ];
    for (const [text, expected] of cases) assert.equal(parseLabelSelector(text).matches(labels), expected, text);
  });

  it("prints requirements sorted by key, as Kubernetes does", () => {
    assert.equal(parseLabelSelector("tier in (b,a),app=web,!x").toString(), "app=web,tier in (a,b),!x");
  });

  it("gives clear errors for malformed selectors", () => {
    assert.throws(() => parseLabelSelector("app in web"), {
      name: "LabelSelectorParseError",
      message: "unable to parse requirement: found 'web', expected: '('",
    });
    assert.throws(() => parseLabelSelector("app=web,"), LabelSelectorParseError);
    assert.throws(() => parseLabelSelector("=web"), { message: "unable to parse requirement: found '=', expected: identifier or '!'" });
    assert.throws(() => parseLabelSelector("app=web extra"), { message: "unable to parse requirement: found 'extra', expected: ',' or 'end of string'" });
    assert.throws(() => parseLabelSelector("app=-bad-"), /unable to parse requirement: values\[0\]\[app\]: Invalid value: "-bad-": a valid label must be/);
    assert.throws(() => parseLabelSelector("tier in ()"), /for 'in', 'notin' operators, values set can't be empty/);
  });

  it("turns a LabelSelector into a matcher: nil matches nothing, empty matches everything", () => {
    assert.equal(labelSelectorMatches(undefined, labels), false);
    assert.equal(labelSelectorMatches({}, labels), true);
    assert.equal(
      labelSelectorMatches({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["frontend"] }] }, labels),
      true,
    );
    assert.equal(labelSelectorMatches({ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, labels), false);
    assert.equal(
      formatLabelSelector({ matchLabels: { app: "web" }, matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod", "dev"] }] }),
      "app=web,env notin (dev,prod)",
    );
    assert.equal(formatLabelSelector({}), "<none>");
  });

  it("builds a selector from a service's label set", () => {
    const selector = selectorFromSet({ app: "web" });
    assert.ok(selector.matches(labels));
    assert.ok(!selector.matches({}));
    assert.ok(Selector.everything().isEmpty());
  });
});

describe("field selectors", () => {
  const pods = findResource("", "v1", "pods")!;
  const events = findResource("", "v1", "events")!;
  const pod = {
    metadata: { name: "web-1", namespace: "default" },
    spec: { nodeName: "node-a", containers: [] },
    status: { phase: "Running" },
  } as unknown as KubeObject;

  it("match =, == and != on the fields a kind supports", () => {
    assert.ok(parseFieldSelector("spec.nodeName=node-a").matches(pod, pods.fieldSelectors));
    assert.ok(parseFieldSelector("spec.nodeName==node-a,status.phase!=Pending").matches(pod, pods.fieldSelectors));
    assert.ok(!parseFieldSelector("metadata.name=web-2").matches(pod, pods.fieldSelectors));
    assert.ok(parseFieldSelector("spec.nodeName=").matches({ metadata: { name: "p" } }, pods.fieldSelectors), "an unscheduled pod has an empty node name");
    assert.equal(parseFieldSelector("spec.nodeName=node-a").requiresExactMatch("spec.nodeName"), "node-a");
  });

  it("supports the Event fields kubectl describe uses", () => {
    const event = {
      metadata: { name: "e", namespace: "default" },
      involvedObject: { kind: "Pod", name: "web-1", namespace: "default", uid: "u1" },
      reason: "Scheduled",
      type: "Normal",
      source: { component: "default-scheduler" },
    };
    const selector = parseFieldSelector(
      "involvedObject.name=web-1,involvedObject.namespace=default,involvedObject.kind=Pod,involvedObject.uid=u1,type=Normal,reason=Scheduled,source=default-scheduler",
    );
    assert.ok(selector.matches(event, events.fieldSelectors));
  });

  it("names an unsupported field as Kubernetes does", () => {
    assert.throws(
      () => parseFieldSelector("spec.replicas=1").checkSupported(pods.fieldSelectors),
      (e: unknown) => e instanceof FieldSelectorUnsupportedError && e.message === "field label not supported: spec.replicas",
    );
  });

  it("unescapes values and rejects terms without an operator", () => {
    const selector = parseFieldSelector("metadata.name=a\\,b");
    assert.deepEqual(selector.requirements, [{ field: "metadata.name", operator: "=", value: "a,b" }]);
    assert.equal(selector.toString(), "metadata.name=a\\,b");
    assert.throws(
      () => parseFieldSelector("metadata.name"),
      (e: unknown) => e instanceof FieldSelectorParseError && e.message === "invalid selector: 'metadata.name'; can't understand 'metadata.name'",
    );
    assert.ok(parseFieldSelector("").isEmpty());
  });
});
