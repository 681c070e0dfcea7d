/** core/v1 ConfigMap, Secret and ServiceAccount: configuration and identity objects without spec/status. */
import type { KubeObject } from "../meta/v1.js";
import type { LocalObjectReference, ObjectReference } from "./common.js";

export interface ConfigMap extends KubeObject {
  apiVersion?: "v1";
  kind?: "ConfigMap";
  data?: Record<string, string>;
  /** Values are base64, as on the wire. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

export type SecretType =
  | "Opaque"
  | "kubernetes.io/service-account-token"
  | "kubernetes.io/dockercfg"
  | "kubernetes.io/dockerconfigjson"
  | "kubernetes.io/basic-auth"
  | "kubernetes.io/ssh-auth"
  | "kubernetes.io/tls"
  | "bootstrap.kubernetes.io/token"
  | string;

export interface Secret extends KubeObject {
  apiVersion?: "v1";
  kind?: "Secret";
  /** Values are base64, as on the wire. */
  data?: Record<string, string>;
  /** Write-only plain-text values; merged into `data` on write and never stored (Kubernetes behaviour). */
  stringData?: Record<string, string>;
  type?: SecretType;
  immutable?: boolean;
}

export interface ServiceAccount extends KubeObject {
  apiVersion?: "v1";
  kind?: "ServiceAccount";
  secrets?: ObjectReference[];
  imagePullSecrets?: LocalObjectReference[];
  automountServiceAccountToken?: boolean;
}
