import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ContainerPort } from "@coxswain/api";
import { CycleState } from "../../framework/cycle-state.js";
import { PodInfo } from "../../framework/types.js";
import { container, makeNode, makePod, nodeInfoWith } from "../../testing/builders.js";
import { NodePorts, nodePortsReason } from "./node-ports.js";

const plugin = new NodePorts();

function podWithPorts(name: string, ports: ContainerPort[]) {
  return makePod(name, { containers: [container("c", {}, { ports })] });
}

describe("NodePorts", () => {
  const cases: { name: string; used: ContainerPort[]; wanted: ContainerPort[]; fits: boolean }[] = [
    { name: "fits when the port is free", used: [{ containerPort: 80, hostPort: 8080 }], wanted: [{ containerPort: 80, hostPort: 9090 }], fits: true },
    {
      name: "conflicts on the same port and protocol",
      used: [{ containerPort: 80, hostPort: 8080 }],
      wanted: [{ containerPort: 81, hostPort: 8080 }],
      fits: false,
    },
    {
      name: "does not conflict across protocols",
      used: [{ containerPort: 53, hostPort: 53, protocol: "UDP" }],
      wanted: [{ containerPort: 53, hostPort: 53, protocol: "TCP" }],
      fits: true,
    },
    {
      name: "does not conflict on different specific host IPs",
      used: [{ containerPort: 80, hostPort: 8080, hostIP: "10.0.0.1" }],
      wanted: [{ containerPort: 80, hostPort: 8080, hostIP: "10.0.0.2" }],
      fits: true,
    },
    {
      name: "a wildcard host IP conflicts with a specific one",
      used: [{ containerPort: 80, hostPort: 8080, hostIP: "10.0.0.1" }],
      wanted: [{ containerPort: 80, hostPort: 8080 }],
      fits: false,
    },
    {
      name: "a specific host IP conflicts with a wildcard one",
      used: [{ containerPort: 80, hostPort: 8080, hostIP: "0.0.0.0" }],
      wanted: [{ containerPort: 80, hostPort: 8080, hostIP: "10.0.0.2" }],
      fits: false,
    },
    { name: "container ports without host ports claim nothing", used: [{ containerPort: 8080 }], wanted: [{ containerPort: 80, hostPort: 8080 }], fits: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const info = nodeInfoWith(makeNode("n"), [podWithPorts("existing", c.used)]);
      const pod = PodInfo.of(podWithPorts("p", c.wanted));
      const state = new CycleState();
      assert.ok(plugin.preFilter(state, pod).isSuccess());
      const status = plugin.filter(state, pod, info);
      assert.equal(status.isSuccess(), c.fits);
      if (!c.fits) assert.deepEqual(status.reasons, [nodePortsReason]);
    });
  }

  it("skips pods that claim no host port", () => {
    assert.ok(plugin.preFilter(new CycleState(), PodInfo.of(makePod("p"))).isSkip());
  });

  it("frees the port when the pod holding it leaves", () => {
    const holder = podWithPorts("holder", [{ containerPort: 80, hostPort: 8080 }]);
    const info = nodeInfoWith(makeNode("n"), [holder]);
    const pod = PodInfo.of(podWithPorts("p", [{ containerPort: 80, hostPort: 8080 }]));
    assert.equal(plugin.filter(new CycleState(), pod, info).isSuccess(), false);
    info.removePod(PodInfo.of(holder).cacheKey);
    assert.equal(plugin.filter(new CycleState(), pod, info).isSuccess(), true);
  });
});
