// Reading the environment's values the way people write them.

export type Env = Readonly<Record<string, string | undefined>>;

/** "1", "true", "yes", "on" (any case) are true; anything else, and unset, is false. */
export function parseBoolean(value: string | undefined): boolean {
  if (value === undefined) return false;
  return ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}
