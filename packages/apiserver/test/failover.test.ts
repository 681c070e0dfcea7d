/**
 * Two API servers on one store; clients write through both while one API server is killed with
 * kill -9 (in the middle of their requests) and later restarted. The clients are
 * @kubernetes/client-node, each with a preferred server and the other as fallback: a request
 * that gets no answer (refused, reset) is retried against the other server, idempotently. The
 * proof: no request fails once retried, every acknowledged write is there afterwards — read
 * through both servers, through an informer that stayed connected to the surviving server, and
 * through a raw watch that lost its server and resumed on the other from its last resourceVersion.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiException, CoreV1Api, KubeConfig, type V1ConfigMap, makeInformer } from "@kubernetes/client-node";
import { type WatchStream, sleep, waitFor, withTimeout } from "@coxswain/testkit";
import { type ConfigMapLike, SETTLE_TIMEOUT_MS, SUITE_TIMEOUT_MS, createNamespace, useControlPlane } from "./support.js";

const WRITERS = 6;
const OPERATIONS_PER_WRITER = 30;
/** The API server killed: writers with an even index prefer it. */
const VICTIM = 0;
const SURVIVOR = 1;
/** kill -9 once this many operations (over all writers) were acknowledged; restart at the second mark. */
const KILL_AFTER_OPERATIONS = 40;
const RESTART_AFTER_OPERATIONS = 110;
/** Attempts per request before the test calls it failed (a request is tried on both servers in turn). */
const ATTEMPTS_MAX = 40;
const RETRY_DELAY_MS = 100;
const REQUEST_TIMEOUT_MS = 10_000;
/** The raw watch gives up after moving this often (each kill should cost one or two moves). */
const WATCH_MOVES_MAX = 20;

function kubeConfigFor(kubeconfigPath: string, server: string): KubeConfig {
  const loaded = new KubeConfig();
  loaded.loadFromFile(kubeconfigPath);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: loaded.clusters.map((c) => ({ ...c, server })),
    users: loaded.users,
    contexts: loaded.contexts,
    currentContext: loaded.currentContext,
  });
  return kc;
}

/** An answer from a server (ApiException) as opposed to no answer (refused, reset, timed out). */
function answeredCode(err: unknown): number | null {
  return err instanceof ApiException ? err.code : null;
}

interface Tally {
  acknowledged: number;
  /** Requests that got no answer (or 5xx) and were sent again, to the other server. */
  retries: number;
  /** Retries whose first attempt had in fact been applied (AlreadyExists / counter already advanced). */
  appliedBeforeRetry: number;
}

describe("failover: kill -9 of one of two API servers under load", { timeout: SUITE_TIMEOUT_MS }, () => {
  const suite = useControlPlane();

  it("no request fails when retried against the other API server, and nothing acknowledged is lost", async () => {
    const ns = "failover";
    await createNamespace(suite.plane.client(), ns);
    const apis = [0, 1].map((i) => kubeConfigFor(suite.plane.kubeconfigPath, suite.plane.apiServer(i).url).makeApiClient(CoreV1Api));
    const tally: Tally = { acknowledged: 0, retries: 0, appliedBeforeRetry: 0 };

    /**
     * Runs `attempt` against the writer's preferred server, then alternates. `attempt` is called
     * again only when the previous call got no answer or a 5xx; `isDone` decides from a fresh read
     * whether an unanswered attempt was applied after all (so that a retry is idempotent).
     */
    async function withFailover<T>(what: string, preferred: number, attempt: (api: CoreV1Api, retry: boolean) => Promise<T>): Promise<T> {
      let lastError: unknown;
      for (let n = 0; n < ATTEMPTS_MAX; n++) {
        const server = (preferred + n) % 2;
        try {
          return await withTimeout(what, attempt(apis[server]!, n > 0), REQUEST_TIMEOUT_MS);
        } catch (err) {
          const code = answeredCode(err);
          if (code !== null && code < 500) throw err; // an answer: not the server's absence
          if (err instanceof assert.AssertionError) throw err; // the test's own check failed
          lastError = err;
          tally.retries++;
          await sleep(RETRY_DELAY_MS);
        }
      }
      throw new Error(`${what}: no answer after ${ATTEMPTS_MAX} attempts on both servers: ${String(lastError)}`);
    }

    /** Writer `w`: creates its objects and counts them in its own counter, preferring API server w % 2. */
    async function writer(w: number): Promise<void> {
      const preferred = w % 2 === 0 ? VICTIM : SURVIVOR;
      const counter = `count-${w}`;
      await withFailover(`create ${counter}`, preferred, async (api, retry) => {
        try {
          await api.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: counter }, data: { value: "0" } } });
        } catch (err) {
          if (retry && answeredCode(err) === 409) tally.appliedBeforeRetry++;
          else throw err;
        }
      });
      for (let n = 1; n <= OPERATIONS_PER_WRITER; n++) {
        const name = `w${w}-${n}`;
        // Create: retried after no answer, an AlreadyExists with our data means the first attempt landed.
        await withFailover(`create ${name}`, preferred, async (api, retry) => {
          try {
            await api.createNamespacedConfigMap({
              namespace: ns,
              body: { metadata: { name, labels: { writer: String(w) } }, data: { writer: String(w), n: String(n) } },
            });
          } catch (err) {
            if (!(retry && answeredCode(err) === 409)) throw err;
            const existing = await api.readNamespacedConfigMap({ namespace: ns, name });
            assert.deepEqual(existing.data, { writer: String(w), n: String(n) }, `${name} exists with this writer's data`);
            tally.appliedBeforeRetry++;
          }
        });
        // Compare-and-swap the counter from n-1 to n (a PUT with the resourceVersion just read).
        await withFailover(`count ${name}`, preferred, async (api) => {
          for (;;) {
            const current = await api.readNamespacedConfigMap({ namespace: ns, name: counter });
            const value = Number(current.data?.["value"]);
            if (value === n) {
              tally.appliedBeforeRetry++; // an unanswered PUT had been applied
              return;
            }
            assert.equal(value, n - 1, `${counter} is at ${n - 1} before operation ${n}`);
            try {
              await api.replaceNamespacedConfigMap({ namespace: ns, name: counter, body: { ...current, data: { value: String(n) } } });
              return;
            } catch (err) {
              // 409: someone wrote since our read — only our own earlier attempt can have; read again.
              if (answeredCode(err) !== 409) throw err;
            }
          }
        });
        tally.acknowledged++;
      }
    }

    // An informer on the survivor, and a raw watch on the victim that will have to move.
    const survivorConfig = kubeConfigFor(suite.plane.kubeconfigPath, suite.plane.apiServer(SURVIVOR).url);
    const survivorApi = survivorConfig.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1ConfigMap>(survivorConfig, `/api/v1/namespaces/${ns}/configmaps`, () =>
      survivorApi.listNamespacedConfigMap({ namespace: ns }),
    );
    const informerErrors: unknown[] = [];
    informer.on("error", (err) => informerErrors.push(err));
    await withTimeout("informer start", informer.start(), SETTLE_TIMEOUT_MS);
    const start = await suite.plane.client(VICTIM).getJson<{ metadata: { resourceVersion: string } }>(`/api/v1/namespaces/${ns}/configmaps`);
    const watched = new Map<string, string>(); // name -> the last resourceVersion seen
    const rawWatch = followAcrossServers(start.metadata.resourceVersion, watched);
    let rawWatchStopped = false;
    try {
      // The faults, driven by how far the writers got (never by time).
      const faults = (async () => {
        await waitFor("writers under way", () => (tally.acknowledged >= KILL_AFTER_OPERATIONS ? true : undefined), { timeoutMs: SUITE_TIMEOUT_MS });
        suite.plane.killApiServer(VICTIM);
        await waitFor("writers continue on the survivor", () => (tally.acknowledged >= RESTART_AFTER_OPERATIONS ? true : undefined), {
          timeoutMs: SUITE_TIMEOUT_MS,
        });
        await suite.plane.restartApiServer(VICTIM);
      })();

      await Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(w)), faults]);
      assert.equal(tally.acknowledged, WRITERS * OPERATIONS_PER_WRITER, "every operation was acknowledged");
      assert.ok(tally.retries > 0, "the kill interrupted some requests (which were retried on the other server)");

      // Nothing lost: every object and every counter, read through each server.
      const expected = new Map<string, Record<string, string>>();
      for (let w = 0; w < WRITERS; w++) {
        expected.set(`count-${w}`, { value: String(OPERATIONS_PER_WRITER) });
        for (let n = 1; n <= OPERATIONS_PER_WRITER; n++) expected.set(`w${w}-${n}`, { writer: String(w), n: String(n) });
      }
      for (const index of [VICTIM, SURVIVOR]) {
        const list = await apis[index]!.listNamespacedConfigMap({ namespace: ns });
        const stored = new Map(list.items.map((c) => [c.metadata?.name ?? "", c.data ?? {}]));
        assert.deepEqual(stored, expected, `API server ${index + 1} serves every acknowledged write`);
      }
      await waitFor(
        "the informer holds everything",
        () => {
          if (informerErrors.length > 0) throw new Error(`the informer failed: ${informerErrors.map(String).join("; ")}`);
          return informer.list(ns).length === expected.size ? true : undefined;
        },
        { timeoutMs: SETTLE_TIMEOUT_MS },
      ).catch((err: unknown) => {
        const have = new Set(informer.list(ns).map((c) => c.metadata?.name ?? ""));
        const missing = [...expected.keys()].filter((k) => !have.has(k));
        throw new Error(
          `${(err as Error).message}; informer errors: ${informerErrors.map(String).join("; ") || "none"}; missing ${missing.length}: ${missing.slice(0, 20).join(",")}`,
        );
      });
      assert.deepEqual(new Map(informer.list(ns).map((c) => [c.metadata?.name ?? "", c.data ?? {}])), expected, "the informer on the survivor saw every write");
      assert.deepEqual(informerErrors, []);

      // The raw watch moved to the survivor when its server died, resumed from its last
      // resourceVersion, and (once caught up) has seen every object at its final version.
      const final = await apis[SURVIVOR]!.listNamespacedConfigMap({ namespace: ns });
      const finalVersions = new Map(final.items.map((c) => [c.metadata?.name ?? "", c.metadata?.resourceVersion ?? ""]));
      await waitFor("the resumed watch caught up", () => (sameMap(watched, finalVersions) ? true : undefined), { timeoutMs: SETTLE_TIMEOUT_MS }).catch(
        (err: unknown) => {
          const differing = [...finalVersions]
            .filter(([k, v]) => watched.get(k) !== v)
            .map(([k, v]) => `${k}: watched ${watched.get(k) ?? "nothing"}, stored ${v}`);
          throw new Error(`${(err as Error).message}; ${differing.length} differ: ${differing.slice(0, 20).join("; ")}`);
        },
      );
      rawWatchStopped = true;
      const moves = await rawWatch.stop();
      assert.ok(moves >= 1, "the watch lost its server and resumed on the other");

      // kubectl: the restarted server serves again; a dead one is reported as kubectl reports it.
      const byKubectl = await suite.plane.kubectl(VICTIM).ok(["get", "configmaps", "-n", ns, "-l", "writer=0", "-o", "name"]);
      assert.equal(byKubectl.trim().split("\n").length, OPERATIONS_PER_WRITER);
      suite.plane.killApiServer(VICTIM);
      const refused = await suite.plane.kubectl(VICTIM).run(["get", "configmaps", "-n", ns]);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        new RegExp(
          `The connection to the server 127\\.0\\.0\\.1:${suite.plane.apiServer(VICTIM).port} was refused - did you specify the right host or port\\?`,
        ),
      );
      assert.equal((await suite.plane.kubectl(SURVIVOR).ok(["get", "configmaps", "-n", ns, "-o", "name"])).trim().split("\n").length, expected.size);
      await suite.plane.restartApiServer(VICTIM);
      assert.equal(
        (await suite.plane.kubectl(VICTIM).ok(["get", "configmaps", "-n", ns, "-o", "name"])).trim().split("\n").length,
        expected.size,
        "a restarted API server serves everything",
      );
    } finally {
      // A failed assertion must not leave the watch loop (or the informer) running.
      if (!rawWatchStopped) await rawWatch.stop().catch(() => 0);
      await withTimeout("informer stop", informer.stop(), SETTLE_TIMEOUT_MS).catch(() => {});
    }

    /**
     * Watches the namespace's ConfigMaps on the victim, recording each object's latest
     * resourceVersion; when the stream breaks (its server died), watches again from the last
     * resourceVersion it saw, on the other server. Returns how many times it moved.
     */
    function followAcrossServers(fromResourceVersion: string, seen: Map<string, string>): { stop(): Promise<number> } {
      let stopped = false;
      let current: WatchStream | null = null;
      let moves = 0;
      let failure: Error | null = null;
      const done = (async () => {
        let resourceVersion = fromResourceVersion;
        let server = VICTIM;
        while (!stopped) {
          const client = suite.plane.client(server);
          let opened: Awaited<ReturnType<typeof client.watch>>;
          try {
            opened = await client.watch(`/api/v1/namespaces/${ns}/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`);
          } catch {
            server = 1 - server;
            moves++;
            if (moves > WATCH_MOVES_MAX) throw new Error(`the watch moved ${moves} times without finding a server`);
            await sleep(RETRY_DELAY_MS);
            continue;
          }
          assert.ok(!("text" in opened), `watch from ${resourceVersion} opened on API server ${server + 1}: ${"text" in opened ? opened.text : ""}`);
          current = opened as WatchStream;
          if (stopped) break;
          for (;;) {
            let event;
            try {
              event = await current.next(SUITE_TIMEOUT_MS);
            } catch {
              break;
            }
            if (event === undefined) break;
            assert.notEqual(event.type, "ERROR", `watch error: ${JSON.stringify(event.object)}`);
            const object = event.object as unknown as ConfigMapLike;
            resourceVersion = object.metadata.resourceVersion;
            if (event.type !== "BOOKMARK") seen.set(object.metadata.name, object.metadata.resourceVersion);
          }
          if (!stopped) {
            server = 1 - server;
            moves++;
          }
        }
      })().catch((err: unknown) => {
        failure = err instanceof Error ? err : new Error(String(err));
      });
      return {
        async stop(): Promise<number> {
          stopped = true;
          current?.close();
          await done;
          if (failure !== null) throw failure;
          return moves;
        },
      };
    }
  });
});

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}
