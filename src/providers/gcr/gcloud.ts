// The opt-in `gcloud` source (setting `source: "gcloud"`): the access token of
// gcloud's active account, as upstream's `gcloud` token source gets it, but
// in JSON so the expiry comes with it. Run only when configured.

import { spawn } from "node:child_process";
import { ProviderError } from "../../provider.ts";
import { scrub } from "./errors.ts";

export interface GcloudToken {
  token: string;
  expiresAt: Date | null;
}

const MAX_OUTPUT_BYTES = 1 << 20;

export async function gcloudAccessToken(env: Record<string, string | undefined>, signal: AbortSignal): Promise<GcloudToken> {
  const args = ["config", "config-helper", "--force-auth-refresh", "--format=json"];
  const { code, stdout, stderr } = await run("gcloud", args, env, signal);
  if (code !== 0) {
    const last = stderr.trim().split("\n").pop() ?? "";
    throw new ProviderError(
      `\`gcloud config config-helper\` failed (exit ${code})${last ? `: ${scrub(last, 200)}` : ""}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new ProviderError("`gcloud config config-helper` printed something that is not JSON");
  }
  const credential = (data as { credential?: { access_token?: unknown; token_expiry?: unknown } } | null)?.credential;
  const token = credential?.access_token;
  if (typeof token !== "string" || token === "") {
    throw new ProviderError("`gcloud config config-helper` returned no access token (run `gcloud auth login`)");
  }
  const expiry = typeof credential?.token_expiry === "string" ? new Date(credential.token_expiry) : null;
  return { token, expiresAt: expiry && Number.isFinite(expiry.getTime()) ? expiry : null };
}

function run(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  signal: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, signal, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT_BYTES) stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < MAX_OUTPUT_BYTES) stderr += chunk.toString("utf8");
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") reject(new ProviderError("`gcloud` is configured as the token source but is not on PATH"));
      else if (signal.aborted) reject(new ProviderError("`gcloud config config-helper` did not finish before the deadline"));
      else reject(new ProviderError(`could not run gcloud: ${err.message}`));
    });
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
