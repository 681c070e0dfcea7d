// Type-aware linting for every package (typescript-eslint), plus the rule that keeps the Raft
// core pure: no clocks, timers, randomness, processes or Node.js modules under packages/raft/src/core.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/dist/**", "**/node_modules/**", "packages/proto/gen/**", ".tools/**", ".coxswain/**", "**/*.js", "**/*.mjs"],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        // node:test's describe/it return promises that the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] }] },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/restrict-template-expressions": "off",
      "@typescript-eslint/no-unsafe-enum-comparison": "off",
      "@typescript-eslint/no-redundant-type-constituents": "off",
    },
  },
  {
    files: ["**/*.test.ts", "**/test-support.ts", "**/testing/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
  {
    // CONVENTIONS rule 1: the Raft core is a pure state machine.
    files: ["packages/raft/src/core/**/*.ts"],
    ignores: ["packages/raft/src/core/**/*.test.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        { name: "Date", message: "The Raft core counts ticks; it never reads a clock." },
        { name: "performance", message: "The Raft core counts ticks; it never reads a clock." },
        { name: "setTimeout", message: "Timers belong to the node loop, not the core." },
        { name: "setInterval", message: "Timers belong to the node loop, not the core." },
        { name: "setImmediate", message: "Timers belong to the node loop, not the core." },
        { name: "queueMicrotask", message: "Scheduling belongs to the node loop, not the core." },
        { name: "process", message: "The core does no I/O." },
        { name: "fetch", message: "The core does no I/O." },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "Randomness is injected (RandomSource) so seeds replay." },
        { object: "crypto", property: "getRandomValues", message: "Randomness is injected (RandomSource) so seeds replay." },
      ],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["node:*", "fs", "net", "os", "child_process", "dgram", "http", "http2", "crypto", "@grpc/*", "pino"],
              message: "The Raft core does no I/O.",
            },
          ],
        },
      ],
    },
  },
);
