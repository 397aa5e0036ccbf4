// Every package's tests, each as its own Vitest project (core, node, browser, ...).
export default ["packages/*/vitest.config.ts", "examples/vitest.config.ts"]
