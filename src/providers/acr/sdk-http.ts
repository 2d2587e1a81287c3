// What the Azure SDK's HTTP traffic is allowed and seen to do: retries that
// fit our deadline, and a record of the last answer (a pipeline policy for the
// MSAL credentials; for managed identity, whose credential drops extra
// policies, the HTTP client below).
//
// That client is plain fetch, used by every credential (the MSAL ones too), for
// three reasons the SDK's default one cannot serve.
//   - It reads an answer with a cap (body.ts): the SDK's own client holds
//     every body whole, however large.
//   - It remembers the last answer (status, and whether the body was JSON;
//     never the body), so "HTTP 500" or "not JSON" can be reported as such:
//     the SDK parses every body as JSON and calls any failure there, and any
//     error status whose body is text, a network error.
//   - It stops at our deadline: the SDK gives managed-identity requests its
//     own abort signal, not the one passed to getToken.
// Managed-identity requests are small GETs (and a form POST for Cloud Shell),
// MSAL's are GETs and form POSTs: string bodies are all it needs to carry.

import type { ClientSecretCredentialOptions, ManagedIdentityCredentialClientIdOptions } from "@azure/identity";
import { BodyTooLargeError, readCapped } from "../../body.ts";

type HttpClient = NonNullable<ManagedIdentityCredentialClientIdOptions["httpClient"]>;
type PipelineRequest = Parameters<HttpClient["sendRequest"]>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient["sendRequest"]>>;
type HttpHeaders = PipelineResponse["headers"];

const MAX_BODY = 256 * 1024;

/**
 * Retries that fit a helper's deadline (10 s by default): the SDK's own
 * (3 retries from 0.8–1 s, doubling) outlast it, so a failing service would
 * only ever be reported as "no answer".
 */
export const SDK_RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } as const;

type Policy = NonNullable<ClientSecretCredentialOptions["additionalPolicies"]>[number];

/**
 * Remembers the last HTTP answer the SDK received for the MSAL credentials
 * (status, and whether it was JSON; never the body), so a failure can say what
 * the service did rather than what MSAL made of it. The managed-identity
 * credential replaces extra policies with its own: it records through
 * recordingHttpClient instead.
 */
export function recorderPolicy(log: AnswerLog): Policy {
  return {
    position: "perRetry",
    policy: {
      name: "cchLastAnswer",
      async sendRequest(request, next) {
        const response = await next(request);
        // recordingHttpClient has said what it did not read.
        if (oversized.has(response)) return response;
        recordAnswer(log, response.status, response.headers.get("content-type") ?? null, response.bodyAsText);
        return response;
      },
    },
  };
}

export interface AnswerLog {
  /** The last answer: "HTTP 500", "HTTP 200 with a body that is not JSON", or null when nothing answered yet. */
  last: string | null;
  /** Whether that answer was a usable one (2xx JSON), e.g. OpenID metadata before a token request that hangs. */
  ok: boolean;
  /** Whether that answer's body was over the limit (not read; the SDK got an empty body). */
  tooLarge?: boolean;
}

/** Answers whose bodies were over the limit, so the recorder policy leaves the log as the client wrote it. */
const oversized = new WeakSet<PipelineResponse>();

export function recordAnswer(log: AnswerLog, status: number, contentType: string | null, body: string | null | undefined): void {
  const json = body === null || body === undefined || (/json/i.test(contentType ?? "") && parsesAsJson(body));
  log.last = `HTTP ${status}${status < 300 && !json ? " with a body that is not JSON" : ""}`;
  log.ok = status < 300 && json;
  log.tooLarge = false;
}

/** The last answer when it was a failure worth naming, else null. */
export function failedAnswer(log: AnswerLog): string | null {
  return log.ok ? null : log.last;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function recordingHttpClient(log: AnswerLog, signal: AbortSignal): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const controller = new AbortController();
      const stop = () => controller.abort();
      const stops: Array<() => void> = [];
      for (const s of [signal, request.abortSignal]) {
        if (!s) continue;
        if (s.aborted) stop();
        s.addEventListener("abort", stop);
        stops.push(() => s.removeEventListener("abort", stop));
      }
      const timer = request.timeout > 0 ? setTimeout(stop, request.timeout) : undefined;
      try {
        const body = request.body;
        if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof URLSearchParams)) {
          throw new Error("unsupported request body for a managed-identity request");
        }
        const res = await fetch(request.url, {
          method: request.method,
          headers: request.headers.toJSON(),
          body: body ?? undefined,
          redirect: "manual",
          signal: controller.signal,
        });
        const bodyAsText = await readCapped(res, MAX_BODY).catch((err: unknown) => {
          if (!(err instanceof BodyTooLargeError)) throw err;
          return null;
        });
        recordAnswer(log, res.status, res.headers.get("content-type"), bodyAsText ?? "");
        // Not read past the limit: the SDK gets no body, and a failure names the answer.
        if (bodyAsText === null) {
          Object.assign(log, { last: `HTTP ${res.status} with a body of more than ${MAX_BODY} bytes`, ok: false, tooLarge: true });
          const response: PipelineResponse = { request, status: res.status, headers: toHttpHeaders(res.headers), bodyAsText: "" };
          oversized.add(response);
          return response;
        }
        return { request, status: res.status, headers: toHttpHeaders(res.headers), bodyAsText };
      } finally {
        clearTimeout(timer);
        for (const s of stops) s();
      }
    },
  };
}

function toHttpHeaders(source: Headers): HttpHeaders {
  const map = new Map<string, string>();
  source.forEach((value, name) => map.set(name.toLowerCase(), value));
  return {
    get: (name) => map.get(name.toLowerCase()),
    has: (name) => map.has(name.toLowerCase()),
    set: (name, value) => void map.set(name.toLowerCase(), String(value)),
    delete: (name) => void map.delete(name.toLowerCase()),
    toJSON: () => Object.fromEntries(map),
    [Symbol.iterator]: () => map.entries(),
  };
}
