// Linux's /proc/<pid>/stat, read the one safe way: the command name (field 2)
// is in parentheses and may contain anything, spaces and ")" included, so the
// fields are counted from after its last ")".

import { readFileSync } from "node:fs";

/** Fields 3 onward of /proc/<pid>/stat (state, ppid, …, starttime at index 19); null without /proc or such a process. */
export function procStatFields(pid: number | string): string[] | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}
