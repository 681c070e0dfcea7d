/**
 * `coxswain pki --dir DIR [--apiserver-address A]... [--node N]... [--kubeconfig FILE --servers URL,...]`:
 * creates (idempotently) the cluster CA and the certificates of the API servers, the admin user,
 * the scheduler, the controller manager and each node, and writes the admin kubeconfig.
 */
import { parseArgs } from "node:util";
import { bootstrapPki } from "../auth/pki.js";
import { writeKubeconfig } from "../auth/kubeconfig.js";

const USAGE = `Usage: coxswain pki --dir DIR [--apiserver-address ADDR]... [--node NAME]... [--kubeconfig FILE --servers URL[,URL...]]

Creates the cluster CA (DIR/ca.crt, ca.key) and, issued from it: apiserver.crt/key (serving),
admin.crt/key (CN=admin, O=system:masters), kube-scheduler, kube-controller-manager,
node-<name> client certificates, and sa.key/sa.pub for ServiceAccount tokens. Existing files are
kept. With --kubeconfig, writes a kubeconfig for the admin user listing every --servers URL.`;

export async function runPkiCommand(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        dir: { type: "string" },
        "apiserver-address": { type: "string", multiple: true, default: [] },
        node: { type: "string", multiple: true, default: [] },
        kubeconfig: { type: "string" },
        servers: { type: "string", default: "" },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`coxswain pki: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.dir === undefined) {
    console.error(`coxswain pki: --dir is required\n\n${USAGE}`);
    return 2;
  }
  const pki = await bootstrapPki(values.dir, { apiserverAddresses: values["apiserver-address"], nodeNames: values.node });
  if (values.kubeconfig !== undefined) {
    const servers = values.servers
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (servers.length === 0) {
      console.error("coxswain pki: --kubeconfig needs --servers");
      return 2;
    }
    await writeKubeconfig(values.kubeconfig, {
      servers,
      caPem: pki.ca.certPem,
      clientCertPem: pki.admin.certPem,
      clientKeyPem: pki.admin.keyPem,
      user: "admin",
      context: "coxswain",
    });
  }
  return 0;
}
