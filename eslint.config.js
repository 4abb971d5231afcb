// Lint: syntax-level rules only (fast); types are checked by `tsc` before tests run.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "**/*.d.ts", ".tmp/**", "dist/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
      "prefer-const": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  {
    // The sidecar loads node:http and node:fs through process.getBuiltinModule and node:tls /
    // node:https / node:http2 / gRPC on first use (src/core/builtins.ts, lazy imports): a value
    // import here would put ≈ 8–14 MB back into every sidecar whatever its config (node:fs's
    // namespace, node:fs/promises, node:v8: ≈ 3 MB; docs/performance.md, "Modules a config does
    // not use", "Session 8: the sidecar's RSS"). node:net and node:buffer too: their namespaces'
    // getters load internal/blocklist, internal/socketaddress and internal/file (docs/performance.md,
    // "Session 13: what the sidecar's own code makes Node load"). Type-only imports are free.
    files: ["src/proxy/**/*.ts"],
    ignores: ["src/**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", {
        paths: ["node:http", "node:https", "node:tls", "node:http2", "@grpc/grpc-js", "node:fs", "node:fs/promises", "node:v8", "node:net", "node:buffer"].map((name) => ({
          name, allowTypeImports: true,
          message: "load it through src/core/builtins.ts or a lazy import() when the config needs it (sidecar memory)",
        })),
      }],
    },
  },
);
