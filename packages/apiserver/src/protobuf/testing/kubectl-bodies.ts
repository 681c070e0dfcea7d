/**
 * Request bodies captured from the real kubectl 1.32.4: for each command, the protobuf body it sent
 * (`kubectl -v=9 <command> --dry-run=server` prints it as a hex dump) and the JSON it prints for the
 * same object (`<command> --dry-run=client -o json`). The decoder must turn the first into the
 * second. Test data, written once; re-capture with the commands above if kubectl's output changes.
 */

export interface KubectlBody {
  /** What was run. */
  command: string;
  /** The request body, hex: "6b387300" ("k8s\\0") then runtime.Unknown. */
  protobufHex: string;
  /** kubectl's own JSON for the object. */
  json: Record<string, unknown>;
}

export const KUBECTL_BODIES: Readonly<Record<string, KubectlBody>> = {
  configmap: {
    command: "kubectl create configmap demo --from-literal=a=b --from-literal=empty=",
    protobufHex: "6b3873000a0f0a0276311209436f6e6669674d617012290a140a0464656d6f12001a0022002a0032003800420012060a016112016212090a05656d70747912001a002200",
    json: { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "demo", creationTimestamp: null }, data: { a: "b", empty: "" } },
  },
  cmbinary: {
    command: "kubectl create configmap cmb --from-file=four.bin --from-literal=text=hello  # four.bin holds 00 01 fe ff",
    protobufHex:
      "6b3873000a0f0a0276311209436f6e6669674d617012360a130a03636d6212001a0022002a00320038004200120d0a0474657874120568656c6c6f1a100a08666f75722e62696e12040001feff1a002200",
    json: {
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: { name: "cmb", creationTimestamp: null },
      data: { text: "hello" },
      binaryData: { "four.bin": "AAH+/w==" },
    },
  },
  secret: {
    command: "kubectl create secret generic s --from-literal=p=q",
    protobufHex: "6b3873000a0c0a0276311206536563726574121d0a110a017312001a0022002a0032003800420012060a01701201711a001a002200",
    json: { kind: "Secret", apiVersion: "v1", metadata: { name: "s", creationTimestamp: null }, data: { p: "cQ==" } },
  },
  secretenv: {
    command: "kubectl create secret generic senv --from-literal=k=v --type=example.com/t",
    protobufHex: "6b3873000a0c0a0276311206536563726574122d0a140a0473656e7612001a0022002a0032003800420012060a016b1201761a0d6578616d706c652e636f6d2f741a002200",
    json: { kind: "Secret", apiVersion: "v1", metadata: { name: "senv", creationTimestamp: null }, data: { k: "dg==" }, type: "example.com/t" },
  },
  secrettls: {
    command: "kubectl create secret docker-registry reg --docker-server=r.io --docker-username=u --docker-password=p",
    protobufHex:
      "6b3873000a0c0a0276311206536563726574128c010a130a0372656712001a0022002a0032003800420012550a112e646f636b6572636f6e6669676a736f6e12407b226175746873223a7b22722e696f223a7b22757365726e616d65223a2275222c2270617373776f7264223a2270222c2261757468223a2264547077227d7d7d1a1e6b756265726e657465732e696f2f646f636b6572636f6e6669676a736f6e1a002200",
    json: {
      kind: "Secret",
      apiVersion: "v1",
      metadata: { name: "reg", creationTimestamp: null },
      data: { ".dockerconfigjson": "eyJhdXRocyI6eyJyLmlvIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImF1dGgiOiJkVHB3In19fQ==" },
      type: "kubernetes.io/dockerconfigjson",
    },
  },
  deployment: {
    command: "kubectl create deployment web --image=busybox --replicas=2",
    protobufHex:
      "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412af010a1f0a0377656212001a0022002a003200380042005a0a0a036170701203776562127e0802120c0a0a0a0361707012037765621a640a1c0a0012001a0022002a003200380042005a0a0a036170701203776562124412260a0762757379626f78120762757379626f782a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200",
    json: {
      kind: "Deployment",
      apiVersion: "apps/v1",
      metadata: { name: "web", creationTimestamp: null, labels: { app: "web" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: "web" } },
          spec: { containers: [{ name: "busybox", image: "busybox", resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    },
  },
  deployzero: {
    command: "kubectl create deployment zero --image=nginx --replicas=0 --port=80",
    protobufHex:
      "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bc010a210a047a65726f12001a0022002a003200380042005a0b0a0361707012047a65726f1288010800120d0a0b0a0361707012047a65726f1a6d0a1d0a0012001a0022002a003200380042005a0b0a0361707012047a65726f124c122e0a056e67696e7812056e67696e782a00320a0a001000185022002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200",
    json: {
      kind: "Deployment",
      apiVersion: "apps/v1",
      metadata: { name: "zero", creationTimestamp: null, labels: { app: "zero" } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "zero" } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: "zero" } },
          spec: { containers: [{ name: "nginx", image: "nginx", ports: [{ containerPort: 80 }], resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    },
  },
  namespace: {
    command: "kubectl create namespace ns1",
    protobufHex: "6b3873000a0f0a02763112094e616d657370616365121b0a130a036e733112001a0022002a0032003800420012001a020a001a002200",
    json: { kind: "Namespace", apiVersion: "v1", metadata: { name: "ns1", creationTimestamp: null }, spec: {}, status: {} },
  },
  service: {
    command: "kubectl create service clusterip svc --tcp=80:8080",
    protobufHex:
      "6b3873000a0d0a02763112075365727669636512690a1f0a0373766312001a0022002a003200380042005a0a0a03617070120373766312420a1b0a0738302d38303830120354435018502207080010903f1a002800120a0a0361707012037376631a002209436c757374657249503a00420052005a00600068001a020a001a002200",
    json: {
      kind: "Service",
      apiVersion: "v1",
      metadata: { name: "svc", creationTimestamp: null, labels: { app: "svc" } },
      spec: { ports: [{ name: "80-8080", protocol: "TCP", port: 80, targetPort: 8080 }], selector: { app: "svc" }, type: "ClusterIP" },
      status: { loadBalancer: {} },
    },
  },
  svcheadless: {
    command: "kubectl create service clusterip headless --clusterip=None",
    protobufHex:
      "6b3873000a0d0a027631120753657276696365125f0a290a08686561646c65737312001a0022002a003200380042005a0f0a036170701208686561646c657373122e120f0a036170701208686561646c6573731a044e6f6e652209436c757374657249503a00420052005a00600068001a020a001a002200",
    json: {
      kind: "Service",
      apiVersion: "v1",
      metadata: { name: "headless", creationTimestamp: null, labels: { app: "headless" } },
      spec: { selector: { app: "headless" }, clusterIP: "None", type: "ClusterIP" },
      status: { loadBalancer: {} },
    },
  },
  svcnp: {
    command: "kubectl create service nodeport np --tcp=80",
    protobufHex:
      "6b3873000a0d0a027631120753657276696365125f0a1d0a026e7012001a0022002a003200380042005a090a0361707012026e70123a0a150a023830120354435018502206080010501a00280012090a0361707012026e701a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200",
    json: {
      kind: "Service",
      apiVersion: "v1",
      metadata: { name: "np", creationTimestamp: null, labels: { app: "np" } },
      spec: { ports: [{ name: "80", protocol: "TCP", port: 80, targetPort: 80 }], selector: { app: "np" }, type: "NodePort" },
      status: { loadBalancer: {} },
    },
  },
  job: {
    command: "kubectl create job j --image=busybox -- sleep 5",
    protobufHex:
      "6b3873000a0f0a0862617463682f763112034a6f621282010a110a016a12001a0022002a00320038004200126332610a100a0012001a0022002a00320038004200124d122a0a016a120762757379626f781a05736c6565701a01352a0042006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c201001a082000280030003a001a002200",
    json: {
      kind: "Job",
      apiVersion: "batch/v1",
      metadata: { name: "j", creationTimestamp: null },
      spec: {
        template: {
          metadata: { creationTimestamp: null },
          spec: { containers: [{ name: "j", image: "busybox", command: ["sleep", "5"], resources: {} }], restartPolicy: "Never" },
        },
      },
      status: {},
    },
  },
  serviceaccount: {
    command: "kubectl create serviceaccount sa1",
    protobufHex: "6b3873000a140a027631120e536572766963654163636f756e7412150a130a0373613112001a0022002a003200380042001a002200",
    json: { kind: "ServiceAccount", apiVersion: "v1", metadata: { name: "sa1", creationTimestamp: null } },
  },
  role: {
    command: "kubectl create role r --verb=get --resource=pods",
    protobufHex:
      "6b3873000a240a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311204526f6c6512220a110a017212001a0022002a00320038004200120d0a0367657412001a04706f64731a002200",
    json: {
      kind: "Role",
      apiVersion: "rbac.authorization.k8s.io/v1",
      metadata: { name: "r", creationTimestamp: null },
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
    },
  },
  rolebinding: {
    command: "kubectl create rolebinding rb --role=r --user=u",
    protobufHex:
      "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e6712620a120a02726212001a0022002a0032003800420012260a04557365721219726261632e617574686f72697a6174696f6e2e6b38732e696f1a017522001a240a19726261632e617574686f72697a6174696f6e2e6b38732e696f1204526f6c651a01721a002200",
    json: {
      kind: "RoleBinding",
      apiVersion: "rbac.authorization.k8s.io/v1",
      metadata: { name: "rb", creationTimestamp: null },
      subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "u" }],
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
    },
  },
  clusterrole: {
    command: "kubectl create clusterrole cr --verb=get,list --resource=pods,deployments.apps --resource-name=x",
    protobufHex:
      "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c65124f0a120a02637212001a0022002a0032003800420012160a036765740a046c69737412001a04706f647322017812210a036765740a046c6973741204617070731a0b6465706c6f796d656e74732201781a002200",
    json: {
      kind: "ClusterRole",
      apiVersion: "rbac.authorization.k8s.io/v1",
      metadata: { name: "cr", creationTimestamp: null },
      rules: [
        { verbs: ["get", "list"], apiGroups: [""], resources: ["pods"], resourceNames: ["x"] },
        { verbs: ["get", "list"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["x"] },
      ],
    },
  },
  aggregate: {
    command: "kubectl create clusterrole agg --aggregation-rule=rbac.example.com/aggregate-to-monitoring=true",
    protobufHex:
      "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c65124b0a130a0361676712001a0022002a003200380042001a340a320a300a28726261632e6578616d706c652e636f6d2f6167677265676174652d746f2d6d6f6e69746f72696e671204747275651a002200",
    json: {
      kind: "ClusterRole",
      apiVersion: "rbac.authorization.k8s.io/v1",
      metadata: { name: "agg", creationTimestamp: null },
      rules: null,
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-monitoring": "true" } }] },
    },
  },
  clusterrolebinding: {
    command: "kubectl create clusterrolebinding crb --clusterrole=cr --group=g --serviceaccount=default:sa1",
    protobufHex:
      "6b3873000a320a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311212436c7573746572526f6c6542696e64696e67128e010a130a0363726212001a0022002a0032003800420012270a0547726f75701219726261632e617574686f72697a6174696f6e2e6b38732e696f1a0167220012200a0e536572766963654163636f756e7412001a03736131220764656661756c741a2c0a19726261632e617574686f72697a6174696f6e2e6b38732e696f120b436c7573746572526f6c651a0263721a002200",
    json: {
      kind: "ClusterRoleBinding",
      apiVersion: "rbac.authorization.k8s.io/v1",
      metadata: { name: "crb", creationTimestamp: null },
      subjects: [
        { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "g" },
        { kind: "ServiceAccount", name: "sa1", namespace: "default" },
      ],
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cr" },
    },
  },
  ingress: {
    command: "kubectl create ingress ing --rule=foo.com/bar*=svc1:8080,tls=my-cert --class=nginx",
    protobufHex:
      "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e677265737312660a130a03696e6712001a0022002a00320038004200124b12120a07666f6f2e636f6d12076d792d636572741a2e0a07666f6f2e636f6d12230a210a1f0a042f626172120f220d0a047376633112050a0010903f1a0650726566697822056e67696e781a020a001a002200",
    json: {
      kind: "Ingress",
      apiVersion: "networking.k8s.io/v1",
      metadata: { name: "ing", creationTimestamp: null },
      spec: {
        ingressClassName: "nginx",
        tls: [{ hosts: ["foo.com"], secretName: "my-cert" }],
        rules: [{ host: "foo.com", http: { paths: [{ path: "/bar", pathType: "Prefix", backend: { service: { name: "svc1", port: { number: 8080 } } } }] } }],
      },
      status: { loadBalancer: {} },
    },
  },
  ingressdefault: {
    command: "kubectl create ingress ing2 --default-backend=svc:http --rule=/path=svc2:http",
    protobufHex:
      "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e6772657373125b0a140a04696e673212001a0022002a00320038004200123f0a11220f0a0373766312080a046874747010001a2a0a0012260a240a220a052f70617468121222100a047376633212080a046874747010001a0545786163741a020a001a002200",
    json: {
      kind: "Ingress",
      apiVersion: "networking.k8s.io/v1",
      metadata: { name: "ing2", creationTimestamp: null },
      spec: {
        defaultBackend: { service: { name: "svc", port: { name: "http" } } },
        rules: [{ http: { paths: [{ path: "/path", pathType: "Exact", backend: { service: { name: "svc2", port: { name: "http" } } } }] } }],
      },
      status: { loadBalancer: {} },
    },
  },
  quota: {
    command: "kubectl create quota q --hard=cpu=1,memory=1Gi,pods=10 --scopes=BestEffort",
    protobufHex:
      "6b3873000a130a027631120d5265736f7572636551756f7461124e0a110a017112001a0022002a0032003800420012370a0a0a0363707512030a01310a0f0a066d656d6f727912050a033147690a0c0a04706f647312040a023130120a426573744566666f72741a001a002200",
    json: {
      kind: "ResourceQuota",
      apiVersion: "v1",
      metadata: { name: "q", creationTimestamp: null },
      spec: { hard: { cpu: "1", memory: "1Gi", pods: "10" }, scopes: ["BestEffort"] },
      status: {},
    },
  },
  priorityclass: {
    command: "kubectl create priorityclass pc --value=1000 --description=high --preemption-policy=Never",
    protobufHex:
      "6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c61737312260a120a02706312001a0022002a0032003800420010e80718002204686967682a054e657665721a002200",
    json: {
      kind: "PriorityClass",
      apiVersion: "scheduling.k8s.io/v1",
      metadata: { name: "pc", creationTimestamp: null },
      value: 1000,
      description: "high",
      preemptionPolicy: "Never",
    },
  },
  pdb: {
    command: "kubectl create poddisruptionbudget pdb --selector=app=web --min-available=1",
    protobufHex:
      "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e42756467657412390a130a0370646212001a0022002a0032003800420012160a06080010011a00120c0a0a0a0361707012037765621a0a080018002000280030001a002200",
    json: {
      kind: "PodDisruptionBudget",
      apiVersion: "policy/v1",
      metadata: { name: "pdb", creationTimestamp: null },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } },
      status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
    },
  },
  pdbmax: {
    command: "kubectl create poddisruptionbudget pdb2 --selector=app=web --max-unavailable=50%",
    protobufHex:
      "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e427564676574123d0a140a047064623212001a0022002a003200380042001219120c0a0a0a0361707012037765621a09080110001a033530251a0a080018002000280030001a002200",
    json: {
      kind: "PodDisruptionBudget",
      apiVersion: "policy/v1",
      metadata: { name: "pdb2", creationTimestamp: null },
      spec: { selector: { matchLabels: { app: "web" } }, maxUnavailable: "50%" },
      status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
    },
  },
  hpa: {
    command: "kubectl autoscale deployment web --min=2 --max=5 --cpu-percent=80",
    protobufHex:
      "6b3873000a290a0e6175746f7363616c696e672f76311217486f72697a6f6e74616c506f644175746f7363616c6572123f0a130a0377656212001a0022002a0032003800420012220a1a0a0a4465706c6f796d656e7412037765621a07617070732f76311002180520501a04180020001a002200",
    json: {
      kind: "HorizontalPodAutoscaler",
      apiVersion: "autoscaling/v1",
      metadata: { name: "web", creationTimestamp: null },
      spec: { scaleTargetRef: { kind: "Deployment", name: "web", apiVersion: "apps/v1" }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
      status: { currentReplicas: 0, desiredReplicas: 0 },
    },
  },
};
