// Debug logging. Off by default: docker and podman show a helper's stderr to
// the user. Every line passes through the redactor, so a secret that reached
// a message by accident is masked before it is written anywhere.

export interface Logger {
  debug(message: string): void;
  /** Register a secret; any later line containing it has it masked. */
  secret(value: string): void;
  readonly enabled: boolean;
}

export type LogSink = (line: string) => void;

const MIN_SECRET_LENGTH = 6;

export function createLogger(sink: LogSink | null, name: string, now: () => Date = () => new Date()): Logger {
  const secrets = new Set<string>();
  return {
    enabled: sink !== null,
    secret(value: string) {
      if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
    },
    debug(message: string) {
      if (!sink) return;
      sink(`${now().toISOString()} ${name}: ${redact(message, secrets)}\n`);
    },
  };
}

export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("[redacted]");
  return out;
}

export const silentLogger: Logger = createLogger(null, "");
