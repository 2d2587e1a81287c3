// flock(2) through bun:ffi: a lock the kernel drops when its holder dies,
// however it dies. Loaded only when a lock is taken (a cache miss or a
// `store`), never on the cache-hit path. Where libc cannot be found by any
// name we know, or there is no flock (Windows), there is no kernel lock and
// lock.ts judges a lock by its pid and the process's start time instead.
//
//   Linux glibc   libc.so.6
//   Linux musl    libc.musl-<arch>.so.1 (Alpine's name), else the loader ld-musl-<arch>.so.1, which is libc
//   macOS         libc.dylib (libSystem)
//   Windows       none

export interface KernelLock {
  /** Takes an exclusive lock on the open file without waiting; false when another holds it (or flock fails). */
  tryLock(fd: number): boolean;
}

const LOCK_EX = 2;
const LOCK_NB = 4;

let loading: Promise<KernelLock | null> | undefined;

/** The kernel lock, or null where there is none; loaded once. */
export function kernelLock(): Promise<KernelLock | null> {
  return (loading ??= load());
}

async function load(): Promise<KernelLock | null> {
  if (process.platform === "win32") return null;
  let ffi: typeof import("bun:ffi");
  try {
    ffi = await import("bun:ffi");
  } catch {
    return null;
  }
  for (const name of libcNames()) {
    try {
      const lib = ffi.dlopen(name, { flock: { args: [ffi.FFIType.i32, ffi.FFIType.i32], returns: ffi.FFIType.i32 } });
      const flock = lib.symbols.flock;
      return { tryLock: (fd) => flock(fd, LOCK_EX | LOCK_NB) === 0 };
    } catch {
      // not this name
    }
  }
  return null;
}

export function libcNames(platform = process.platform, arch = process.arch): string[] {
  if (platform === "darwin") return ["libc.dylib", "/usr/lib/libSystem.B.dylib"];
  const a = arch === "x64" ? "x86_64" : arch === "arm64" ? "aarch64" : arch;
  return ["libc.so.6", `libc.musl-${a}.so.1`, `/lib/ld-musl-${a}.so.1`];
}
