import { fileURLToPath } from "node:url"
import { defineConfig } from "vite"

// Builds the chat page into examples/chat-page (served by the chat server).
export default defineConfig({
  root: fileURLToPath(new URL("./page", import.meta.url)),
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../chat-page", import.meta.url)),
    emptyOutDir: true,
    target: "es2022"
  }
})
