/**
 * `coxswain <component> [flags]`: one launcher for every server process. `bin/coxswain` runs this
 * with the project's Node.js. Components are loaded lazily so that `coxswain store` does not pay
 * for the others.
 */
const components: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  store: {
    summary: "one member of the etcd-compatible Raft key-value store (etcd's flags)",
    run: async (argv) => (await import("@coxswain/store")).runStoreCommand(argv),
  },
  apiserver: {
    summary: "an API server: the Kubernetes REST API over HTTPS (kube-apiserver's flags)",
    run: async (argv) => (await import("@coxswain/apiserver")).runApiServerCommand(argv),
  },
  pki: {
    summary: "create the cluster CA, component certificates and the admin kubeconfig",
    run: async (argv) => (await import("@coxswain/apiserver")).runPkiCommand(argv),
  },
};

function usage(): string {
  const lines = ["Usage: coxswain <component> [flags]", "", "Components:"];
  for (const [name, c] of Object.entries(components)) lines.push(`  ${name.padEnd(20)} ${c.summary}`);
  lines.push("", "Run `coxswain <component> --help` for a component's flags.");
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const component = components[name];
  if (component === undefined) {
    console.error(`coxswain: unknown component ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return component.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
