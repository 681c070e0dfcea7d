/** Cases after Kubernetes' requestinfo_test.go TestGetAPIRequestInfo and TestGetNonAPIRequestInfo. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { authorizationAttributesFor, authorizationAttributesOf, RequestInfoError } from "./request-info.js";

const user = { name: "alice", groups: [] };

function info(method: string, url: string) {
  const a = authorizationAttributesFor({ user, method, url });
  if (!a.resourceRequest) return { path: a.path, verb: a.verb };
  return {
    verb: a.verb,
    apiGroup: a.apiGroup,
    apiVersion: a.apiVersion,
    namespace: a.namespace ?? "",
    resource: a.resource,
    subresource: a.subresource ?? "",
    name: a.name ?? "",
  };
}

describe("authorization attributes of resource requests", () => {
  const cases: [string, string, [string, string, string, string, string, string, string]][] = [
    // method, url, [verb, apiGroup, apiVersion, namespace, resource, subresource, name]
    ["GET", "/api/v1/namespaces", ["list", "", "v1", "", "namespaces", "", ""]],
    ["GET", "/api/v1/namespaces/other", ["get", "", "v1", "other", "namespaces", "", "other"]],
    ["GET", "/api/v1/namespaces/other/pods", ["list", "", "v1", "other", "pods", "", ""]],
    ["GET", "/api/v1/namespaces/other/pods/foo", ["get", "", "v1", "other", "pods", "", "foo"]],
    ["HEAD", "/api/v1/namespaces/other/pods/foo", ["get", "", "v1", "other", "pods", "", "foo"]],
    ["GET", "/api/v1/pods", ["list", "", "v1", "", "pods", "", ""]],
    ["GET", "/api/v1/pods?watch=true", ["watch", "", "v1", "", "pods", "", ""]],
    ["GET", "/api/v1/pods?watch=1", ["watch", "", "v1", "", "pods", "", ""]],
    ["GET", "/api/v1/pods?watch=", ["watch", "", "v1", "", "pods", "", ""]],
    ["GET", "/api/v1/pods?watch=false", ["list", "", "v1", "", "pods", "", ""]],
    ["GET", "/api/v1/pods?watch=0", ["list", "", "v1", "", "pods", "", ""]],
    ["GET", "/api/v1/namespaces/other/pods/foo/log", ["get", "", "v1", "other", "pods", "log", "foo"]],
    ["GET", "/api/v1/watch/pods", ["watch", "", "v1", "", "pods", "", ""]],
    ["GET", "/api/v1/watch/namespaces/other/pods", ["watch", "", "v1", "other", "pods", "", ""]],
    ["GET", "/api/v1/watch/namespaces/other/pods/foo", ["watch", "", "v1", "other", "pods", "", "foo"]],
    ["GET", "/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dfoo&watch=true", ["watch", "", "v1", "other", "pods", "", "foo"]],
    ["GET", "/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3D%3Dfoo", ["list", "", "v1", "other", "pods", "", "foo"]],
    ["GET", "/api/v1/namespaces/other/pods?fieldSelector=metadata.name!%3Dfoo", ["list", "", "v1", "other", "pods", "", ""]],
    ["POST", "/api/v1/namespaces/other/pods", ["create", "", "v1", "other", "pods", "", ""]],
    ["POST", "/api/v1/namespaces/other/pods/foo/binding", ["create", "", "v1", "other", "pods", "binding", "foo"]],
    ["POST", "/api/v1/namespaces/other/pods/foo/exec?command=ls", ["create", "", "v1", "other", "pods", "exec", "foo"]],
    ["PUT", "/api/v1/namespaces/other/pods/foo", ["update", "", "v1", "other", "pods", "", "foo"]],
    ["PUT", "/api/v1/namespaces/other/pods/foo/status", ["update", "", "v1", "other", "pods", "status", "foo"]],
    ["PATCH", "/api/v1/namespaces/other/pods/foo", ["patch", "", "v1", "other", "pods", "", "foo"]],
    ["DELETE", "/api/v1/namespaces/other/pods/foo", ["delete", "", "v1", "other", "pods", "", "foo"]],
    ["DELETE", "/api/v1/namespaces/other/pods", ["deletecollection", "", "v1", "other", "pods", "", ""]],
    ["PUT", "/api/v1/namespaces/other/finalize", ["update", "", "v1", "other", "namespaces", "finalize", "other"]],
    ["PUT", "/api/v1/namespaces/other/status", ["update", "", "v1", "other", "namespaces", "status", "other"]],
    ["GET", "/api/v1/nodes/node-1", ["get", "", "v1", "", "nodes", "", "node-1"]],
    ["GET", "/apis/apps/v1/namespaces/other/deployments", ["list", "apps", "v1", "other", "deployments", "", ""]],
    ["PUT", "/apis/apps/v1/namespaces/other/deployments/web/scale", ["update", "apps", "v1", "other", "deployments", "scale", "web"]],
    ["GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin", ["get", "rbac.authorization.k8s.io", "v1", "", "clusterroles", "", "admin"]],
    ["GET", "/apis/apps/v1/watch/namespaces/other/deployments", ["watch", "apps", "v1", "other", "deployments", "", ""]],
    ["GET", "/api/v1/namespaces/other/services/web:80/proxy/some/path", ["get", "", "v1", "other", "services", "proxy", "web:80"]],
    ["GET", "/api/v1/proxy/namespaces/other/pods/foo/some/path", ["proxy", "", "v1", "other", "pods", "", "foo"]],
  ];
  for (const [method, url, [verb, apiGroup, apiVersion, namespace, resource, subresource, name]] of cases) {
    it(`${method} ${url} is ${verb} ${resource}${subresource ? "/" + subresource : ""}`, () => {
      assert.deepEqual(info(method, url), { verb, apiGroup, apiVersion, namespace, resource, subresource, name });
    });
  }

  it("cannot tell what a bare special verb addresses", () => {
    assert.throws(() => authorizationAttributesFor({ user, method: "GET", url: "/api/v1/watch" }), RequestInfoError);
  });
});

describe("authorization attributes of non-resource requests", () => {
  const cases: [string, string][] = [
    ["GET", "/"],
    ["GET", "/healthz"],
    ["GET", "/version"],
    ["GET", "/api"],
    ["GET", "/api/v1"],
    ["GET", "/apis"],
    ["GET", "/apis/apps"],
    ["GET", "/apis/apps/v1"],
    ["GET", "/openapi/v3"],
    ["POST", "/metrics"],
  ];
  for (const [method, url] of cases) {
    it(`${method} ${url} is the non-resource path ${url}`, () => {
      assert.deepEqual(info(method, url), { path: url, verb: method.toLowerCase() });
    });
  }

  it("keeps the path without the query", () => {
    assert.deepEqual(info("GET", "/healthz?verbose=1"), { path: "/healthz", verb: "get" });
  });
});

describe("authorization attributes from the front end's request info", () => {
  it("carries a resource request's fields over, leaving empty ones out", () => {
    const info = {
      isResourceRequest: true as const,
      verb: "get",
      apiGroup: "apps",
      apiVersion: "v1",
      namespace: "web",
      resource: "deployments",
      subresource: "",
      name: "api",
    };
    assert.deepEqual(
      authorizationAttributesOf(user, info),
      authorizationAttributesFor({ user, method: "GET", url: "/apis/apps/v1/namespaces/web/deployments/api" }),
    );
  });

  it("carries a non-resource request's verb and path over", () => {
    assert.deepEqual(authorizationAttributesOf(user, { isResourceRequest: false, verb: "get", path: "/healthz" }), {
      resourceRequest: false,
      user,
      verb: "get",
      path: "/healthz",
    });
  });
});
