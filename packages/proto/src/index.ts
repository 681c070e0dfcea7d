/** Generated protobuf types, one namespace per proto group. See scripts/gen-proto.mjs. */
import "./configure.js"; // must stay first: configures 64-bit decoding before the codecs load
import raftGen from "../gen/raft.js";

export { configureLongs, UnsafeIntegerError } from "./longs.js";
export const raftpb = raftGen.coxswain.raft;
export { default as protobuf } from "protobufjs/minimal.js";

export import raftpbTypes = raftGen.coxswain.raft;

import etcdGen from "../gen/etcd.js";
// etcd's v3 API (proto/etcd/), wire-compatible with etcd's own packages.
export const etcdserverpb = etcdGen.etcdserverpb;
export const mvccpb = etcdGen.mvccpb;
export const authpb = etcdGen.authpb;

export import etcdserverpbTypes = etcdGen.etcdserverpb;

export import mvccpbTypes = etcdGen.mvccpb;

export import authpbTypes = etcdGen.authpb;
// What the store replicates through Raft (proto/etcd/store/).
export const storepb = etcdGen.coxswain.store;

export import storepbTypes = etcdGen.coxswain.store;

import apiserverGen from "../gen/apiserver.js";
// Coxswain's gRPC API for components (proto/apiserver/).
export const apiserverpb = apiserverGen.coxswain.apiserver;
export import apiserverpbTypes = apiserverGen.coxswain.apiserver;

import k8sGen from "../gen/k8s.js";
// Kubernetes' own protobuf types (proto/k8s/), for bodies kubectl sends as application/vnd.kubernetes.protobuf.
export const k8spb = k8sGen.k8s.io;
export import k8spbTypes = k8sGen.k8s.io;
export * from "./etcd-wire.js";
