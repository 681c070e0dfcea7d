/** The API server's authentication (client certificates, static tokens, ServiceAccount tokens), PKI and RBAC authorization. See README.md. */
export * from "./user.js";
export * from "./pki.js";
export * from "./kubeconfig.js";
export * from "./token-file.js";
export * from "./serviceaccount-token.js";
export * from "./x509-authenticator.js";
export * from "./authenticate.js";
export * from "./rbac.js";
export * from "./request-info.js";
export * from "./bootstrap-policy.js";
