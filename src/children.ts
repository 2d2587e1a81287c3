// Child processes end at the deadline. `gcloud` (a script that starts
// Python) and an AWS `credential_process` (run by the SDK through a shell)
// could otherwise outlive the helper that gave up on them. When the deadline
// passes, every process descended from this one gets SIGKILL.
//
// Only a helper process does this (cli.ts turns it on): in a test runner or
// a library user the other children are not ours to end.
//
//   Linux    the process tree from /proc/<pid>/stat
//   macOS    the process tree from `ps -A -o pid=,ppid=` (no /proc)
//   Windows  nothing (no build is shipped for it)

import { readdirSync } from "node:fs";
import { procStatFields } from "./proc.ts";

let enabled = false;

/** Called once by the helper's entry point: this process's children are ours to end. */
export function killChildrenAtDeadlines(): void {
  enabled = true;
}

/** Ends every descendant of this process when `signal` aborts (the deadline), if enabled. */
export function endChildrenOnAbort(signal: AbortSignal): void {
  if (!enabled) return;
  signal.addEventListener(
    "abort",
    () => {
      killDescendants();
      // What a library starts after the deadline (an SDK trying again) ends with us.
      process.once("exit", () => killDescendants());
    },
    { once: true },
  );
}

/** SIGKILLs every descendant of `root` (found first, then killed); returns their pids. Best effort. */
export function killDescendants(root = process.pid): number[] {
  let tree: Map<number, number[]>;
  try {
    tree = processTree();
  } catch {
    return [];
  }
  const found: number[] = [];
  const queue = [...(tree.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    found.push(pid);
    queue.push(...(tree.get(pid) ?? []));
  }
  for (const pid of found) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  return found;
}

/** parent pid → child pids. */
function processTree(): Map<number, number[]> {
  const pairs: Array<[number, number]> = [];
  if (process.platform === "linux") {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const ppid = procStatFields(name)?.[1];
      // Gone while we looked: no entry.
      if (ppid !== undefined) pairs.push([Number(name), Number(ppid)]);
    }
  } else if (process.platform !== "win32") {
    // Bun's own spawn: node:child_process would load on every start (cli.ts imports this module).
    const ps = Bun.spawnSync(["ps", "-A", "-o", "pid=,ppid="], { timeout: 2000, stderr: "ignore" });
    for (const line of (ps.stdout?.toString() ?? "").split("\n")) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid && ppid !== undefined && Number.isInteger(ppid)) pairs.push([pid, ppid]);
    }
  }
  const tree = new Map<number, number[]>();
  for (const [pid, ppid] of pairs) tree.set(ppid, [...(tree.get(ppid) ?? []), pid]);
  return tree;
}
