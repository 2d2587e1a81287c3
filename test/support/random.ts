// A small seeded PRNG for property and fuzz tests: every failure reproduces
// from the seed printed with it.

export interface Rng {
  seed: number;
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  string(maxLength: number, alphabet?: string): string;
}

export function rng(seed: number): Rng {
  let s = seed >>> 0 || 1;
  const next = () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: (items) => items[int(items.length)]!,
    string(maxLength, alphabet) {
      const n = int(maxLength + 1);
      let out = "";
      for (let i = 0; i < n; i++) {
        out += alphabet ? alphabet[int(alphabet.length)] : String.fromCharCode(int(next() < 0.9 ? 128 : 0xffff));
      }
      return out;
    },
  };
}

export const HOST_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789.-_:@/[]%\\ \t\n#?ÀΑаеıſ\u0000\u200b";
