// Node's fs errors carry a `code` (ENOENT, EACCES…): the one test for it.

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}
