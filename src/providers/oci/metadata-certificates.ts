// The instance's certificates and key for instance principal, read from the
// metadata service with a cap (body.ts) and handed to oci-common's builder
// through its certificate-supplier setters. The builder's own supplier reads
// them with node-fetch, whole, where no fetch we can reach is used.

import { parseCertificate, parsePrivateKey, type Certificate, type PrivateKey } from "sshpk";
import { ProviderError, type Context } from "../../provider.ts";
import { BodyTooLargeError, readCapped } from "../../body.ts";
import { fetchSignal, remainingMs, seconds } from "./deadline.ts";
import { isAbort, reason } from "./errors.ts";

interface Pair {
  getCertificate(): Certificate;
  getPrivateKey(): PrivateKey | null;
}

/** What oci-common's X509CertificateSupplier asks for; refreshed (read again) before every federation call. */
export interface MetadataCertificate {
  refresh(): Promise<MetadataCertificate>;
  getCertificateAndKeyPair(): Pair;
}

export async function metadataCertificate(
  metadataUrl: string,
  certPath: string,
  keyPath: string | null,
  ctx: Context,
): Promise<MetadataCertificate> {
  let pair: Pair | null = null;
  const supplier: MetadataCertificate = {
    async refresh() {
      const certificate = parseCertificate(await readMetadata(metadataUrl + certPath, ctx), "pem");
      const key = keyPath === null ? null : parsePrivateKey(await readMetadata(metadataUrl + keyPath, ctx), "auto");
      pair = { getCertificate: () => certificate, getPrivateKey: () => key };
      return supplier;
    },
    getCertificateAndKeyPair() {
      if (pair === null) throw new ProviderError(`the certificate at ${metadataUrl + certPath} was not read`);
      return pair;
    },
  };
  return supplier.refresh();
}

/**
 * One answer of the instance metadata service (`Authorization: Bearer
 * Oracle`), read with the size cap, within the deadline (or `capMs`).
 */
export async function readMetadata(url: string, ctx: Context, capMs = Infinity): Promise<string> {
  const ms = remainingMs(ctx, capMs);
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: "Bearer Oracle" }, signal: fetchSignal(ctx, ms), redirect: "manual" });
  } catch (err) {
    if (isAbort(err)) throw new ProviderError(`the instance metadata service (${url}) did not answer within ${seconds(ms)}`);
    throw new ProviderError(`the instance metadata service (${url}) is unreachable: ${reason(err)}`);
  }
  const text = await readCapped(res).catch((err: unknown) => {
    throw err instanceof BodyTooLargeError ? new ProviderError(`the instance metadata service: ${err.message} (${url})`) : err;
  });
  if (res.status !== 200) throw new ProviderError(`the instance metadata service answered HTTP ${res.status} for ${url}`);
  return text;
}
