import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { container, makePod } from "../testing/builders.js";
import { computePodRequests, defaultCpuRequestMilli, defaultMemoryRequestBytes } from "./resources.js";
import { PodInfo } from "./types.js";

const Mi = 1024 * 1024;

describe("pod requests", () => {
  const cases: { name: string; containers: ReturnType<typeof container>[]; init?: ReturnType<typeof container>[]; cpuMilli: number; memoryBytes: number }[] = [
    {
      name: "regular containers add up",
      containers: [container("a", { cpu: "100m", memory: "64Mi" }), container("b", { cpu: "250m", memory: "64Mi" })],
      cpuMilli: 350,
      memoryBytes: 128 * Mi,
    },
    {
      name: "the largest init container wins when it exceeds the regular sum",
      containers: [container("a", { cpu: "100m", memory: "64Mi" })],
      init: [container("i1", { cpu: "500m", memory: "32Mi" }), container("i2", { cpu: "200m", memory: "16Mi" })],
      cpuMilli: 500,
      memoryBytes: 64 * Mi,
    },
    {
      name: "each resource takes its own maximum",
      containers: [container("a", { cpu: "1", memory: "64Mi" })],
      init: [container("i", { cpu: "100m", memory: "1Gi" })],
      cpuMilli: 1000,
      memoryBytes: 1024 * Mi,
    },
    {
      name: "sidecars add to the total and to every later init container",
      containers: [container("a", { cpu: "100m", memory: "64Mi" })],
      init: [container("sidecar", { cpu: "200m", memory: "32Mi" }, { restartPolicy: "Always" }), container("migrate", { cpu: "500m", memory: "16Mi" })],
      // regular + sidecar = 300m / 96Mi; migrate runs beside the sidecar: 700m / 48Mi.
      cpuMilli: 700,
      memoryBytes: 96 * Mi,
    },
    {
      name: "an init container before a sidecar does not run beside it",
      containers: [container("a", { cpu: "100m" })],
      init: [container("first", { cpu: "300m" }), container("sidecar", { cpu: "250m" }, { restartPolicy: "Always" })],
      cpuMilli: 350,
      memoryBytes: 0,
    },
    { name: "no requests at all is zero", containers: [container("a")], cpuMilli: 0, memoryBytes: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { requested } = computePodRequests({ containers: c.containers, initContainers: c.init });
      assert.deepEqual(requested, { cpuMilli: c.cpuMilli, memoryBytes: c.memoryBytes });
    });
  }

  it("count unset requests as 100m cpu and 200Mi memory for scoring only", () => {
    const r = computePodRequests({ containers: [container("a"), container("b", { cpu: "50m" })] });
    assert.deepEqual(r.requested, { cpuMilli: 50, memoryBytes: 0 });
    assert.deepEqual(r.nonZeroRequested, { cpuMilli: defaultCpuRequestMilli + 50, memoryBytes: 2 * defaultMemoryRequestBytes });
  });

  it("keep an explicit zero request as zero for scoring", () => {
    const r = computePodRequests({ containers: [container("a", { cpu: "0", memory: "0" })] });
    assert.deepEqual(r.nonZeroRequested, { cpuMilli: 0, memoryBytes: 0 });
  });

  it("mark a pod with a malformed quantity instead of throwing", () => {
    const info = PodInfo.of(makePod("bad", { cpu: "lots" }));
    assert.match(info.invalidRequests ?? "", /invalid resource request/);
    assert.deepEqual(info.requests.requested, { cpuMilli: 0, memoryBytes: 0 });
  });
});
