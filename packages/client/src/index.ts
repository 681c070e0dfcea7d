/**
 * Public entry point of @coxswain/client: the API client, and the machinery every controller
 * shares (informers, work queues, leader election, health endpoints). See README.md.
 */
export * from "./client.js";
export * from "./service.js";
export * from "./api.js";
export * from "./clock/clock.js";
export * from "./util/backoff.js";
export * from "./informer/index.js";
export * from "./workqueue/index.js";
export * from "./leaderelection/index.js";
export * from "./health/index.js";
// Test doubles other packages' tests use (FakeApi, FakeClock); they open no sockets and set no real timers.
export * from "./testing/index.js";
