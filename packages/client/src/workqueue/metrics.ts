/**
 * Work queue metrics under client-go's names (k8s.io/component-base/metrics/prometheus/workqueue),
 * labelled by queue name, so dashboards written for Kubernetes controllers read ours:
 * workqueue_depth, workqueue_adds_total, workqueue_queue_duration_seconds,
 * workqueue_work_duration_seconds, workqueue_unfinished_work_seconds,
 * workqueue_longest_running_processor_seconds, workqueue_retries_total.
 */
import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from "prom-client";
import { assert } from "@coxswain/raft";

/** What a queue reports; the queue calls these hooks, the provider decides where they go. */
export interface QueueMetrics {
  /** An item entered the queue (not a duplicate). */
  add(): void;
  /** A worker took an item that waited `waitedSeconds` since it was added. */
  get(waitedSeconds: number): void;
  /** A worker finished an item it held `workedSeconds`. */
  done(workedSeconds: number): void;
  /** An item was scheduled to come back later (addAfter / addRateLimited). */
  retry(): void;
  /** The queue shut down: stop reporting it. */
  close(): void;
}

/** What the unfinished-work gauges read from a live queue when scraped. */
export interface QueueProcessingView {
  /** Seconds each item in progress has been processed so far. */
  processingSeconds(): number[];
}

export const noopQueueMetrics: QueueMetrics = { add() {}, get() {}, done() {}, retry() {}, close() {} };

interface RegistryMetrics {
  depth: Gauge<"name">;
  adds: Counter<"name">;
  queueDuration: Histogram<"name">;
  workDuration: Histogram<"name">;
  retries: Counter<"name">;
  live: Map<string, QueueProcessingView>;
}

const perRegistry = new WeakMap<Registry, RegistryMetrics>();

// client-go: prometheus.ExponentialBuckets(10e-9, 10, 10), 10 ns to 10 s.
const durationBuckets = exponentialBuckets(10e-9, 10, 10);

function metricsFor(registry: Registry): RegistryMetrics {
  const existing = perRegistry.get(registry);
  if (existing !== undefined) return existing;
  const live = new Map<string, QueueProcessingView>();
  const registers = [registry];
  const m: RegistryMetrics = {
    live,
    depth: new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue", labelNames: ["name"], registers }),
    adds: new Counter({ name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames: ["name"], registers }),
    queueDuration: new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested.",
      labelNames: ["name"],
      buckets: durationBuckets,
      registers,
    }),
    workDuration: new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes.",
      labelNames: ["name"],
      buckets: durationBuckets,
      registers,
    }),
    retries: new Counter({ name: "workqueue_retries_total", help: "Total number of retries handled by workqueue", labelNames: ["name"], registers }),
  };
  // Computed when scraped, so no timer runs to keep them current (client-go updates them every 500 ms).
  new Gauge({
    name: "workqueue_unfinished_work_seconds",
    help: "How many seconds of work has done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads.",
    labelNames: ["name"],
    registers,
    collect() {
      this.reset();
      for (const [name, view] of live)
        this.set(
          { name },
          view.processingSeconds().reduce((a, b) => a + b, 0),
        );
    },
  });
  new Gauge({
    name: "workqueue_longest_running_processor_seconds",
    help: "How many seconds has the longest running processor for workqueue been running.",
    labelNames: ["name"],
    registers,
    collect() {
      this.reset();
      for (const [name, view] of live) this.set({ name }, Math.max(0, ...view.processingSeconds()));
    },
  });
  perRegistry.set(registry, m);
  return m;
}

/** Metrics of the queue `name` in `registry`; names are unique among a registry's live queues. */
export function prometheusQueueMetrics(registry: Registry, name: string, view: QueueProcessingView): QueueMetrics {
  const m = metricsFor(registry);
  assert(!m.live.has(name), `a live work queue named ${JSON.stringify(name)} already reports to this registry`);
  m.live.set(name, view);
  const labels = { name };
  m.depth.set(labels, 0);
  m.adds.inc(labels, 0);
  m.retries.inc(labels, 0);
  return {
    add: () => {
      m.adds.inc(labels);
      m.depth.inc(labels);
    },
    get: (waitedSeconds) => {
      m.depth.dec(labels);
      m.queueDuration.observe(labels, waitedSeconds);
    },
    done: (workedSeconds) => m.workDuration.observe(labels, workedSeconds),
    retry: () => m.retries.inc(labels),
    close: () => {
      m.live.delete(name);
    },
  };
}
