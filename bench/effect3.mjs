// The last Effect 3 commit, built, for the both-ends rows that compare the port with it: a git
// worktree of EFFECT3_COMMIT at bench/.effect3 (gitignored), installed with its own lockfile and
// built once, then reused by later runs. BENCH_EFFECT3_ROOT, when set, names a built checkout to
// use instead (nothing is prepared then). Whatever cannot be done (no git history, no network for
// the install, a failed build) yields a reason, never an exception: the run goes on without the
// Effect 3 rows and says why.
import { spawnSync } from "node:child_process"
import { existsSync, realpathSync, rmSync } from "node:fs"
import { join } from "node:path"
import { workspaceRoot } from "./lib.mjs"

export const EFFECT3_COMMIT = "0783d4f"
const PNPM = ["-y", "pnpm@10.34.9"]
const worktree = join(workspaceRoot, "bench", ".effect3")
const MINUTE = 60_000

const built = (root) => ["core", "node"].every((name) => existsSync(join(root, "packages", name, "dist", "index.js")))

/** Runs a command; its output goes to stderr (this process's stdout carries result lines). */
const run = (command, args, cwd, timeout) => {
  const result = spawnSync(command, args, { cwd, stdio: ["ignore", 2, 2], timeout, encoding: "utf8" })
  if (result.error) return `${command} ${args.join(" ")}: ${result.error.message}`
  if (result.status !== 0) return `${command} ${args.join(" ")} exited with ${result.status ?? result.signal}`
  return undefined
}
const git = (args, cwd = workspaceRoot) => {
  const result = spawnSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  return result.status === 0 ? result.stdout.trim() : undefined
}

/** The commit checked out at bench/.effect3 when it is a worktree of its own (not this one's folder). */
const worktreeHead = () =>
  existsSync(worktree) && git(["rev-parse", "--show-toplevel"], worktree) === realpathSync(worktree) ? git(["rev-parse", "HEAD"], worktree) : undefined

/**
 * `{ root }`: a built checkout of the last Effect 3 commit; or `{ skipped }`: why there is none.
 * Logs each step to stderr.
 */
export const prepareEffect3 = () => {
  const given = process.env.BENCH_EFFECT3_ROOT
  if (given) return built(given) ? { root: given } : { skipped: `BENCH_EFFECT3_ROOT=${given} has no built packages/core and packages/node (dist)` }
  const log = (line) => console.error(`bench: effect 3: ${line}`)
  if (git(["rev-parse", "--git-dir"]) === undefined) return { skipped: "this checkout is no git repository (or git is missing), so the last Effect 3 commit cannot be checked out" }
  const commit = git(["rev-parse", "--verify", "--quiet", `${EFFECT3_COMMIT}^{commit}`])
  if (commit === undefined) return { skipped: `commit ${EFFECT3_COMMIT} is not in this clone's history (a shallow clone?)` }
  const head = worktreeHead()
  if (head === commit && built(worktree) && existsSync(join(worktree, "node_modules"))) {
    log(`reusing ${worktree} (${EFFECT3_COMMIT}, built)`)
    return { root: worktree }
  }
  if (existsSync(worktree) && head !== commit) {
    // Something else, or a broken half: start over.
    log(`replacing ${worktree}`)
    git(["worktree", "remove", "--force", worktree])
    rmSync(worktree, { recursive: true, force: true })
    git(["worktree", "prune"])
  }
  if (!existsSync(worktree)) {
    log(`git worktree add --detach ${worktree} ${EFFECT3_COMMIT}`)
    const failed = run("git", ["worktree", "add", "--detach", worktree, commit], workspaceRoot, 5 * MINUTE)
    if (failed) return { skipped: failed }
  }
  log("pnpm install --frozen-lockfile (its own lockfile and node_modules)")
  const installFailed = run("npx", [...PNPM, "install", "--frozen-lockfile", "--prefer-offline"], worktree, 20 * MINUTE)
  if (installFailed) return { skipped: `installing ${EFFECT3_COMMIT}'s dependencies failed (offline?): ${installFailed}` }
  log("pnpm build")
  const buildFailed = run("npx", [...PNPM, "build"], worktree, 20 * MINUTE)
  if (buildFailed || !built(worktree)) return { skipped: `building ${EFFECT3_COMMIT} failed: ${buildFailed ?? "no packages/*/dist"}` }
  return { root: worktree }
}
