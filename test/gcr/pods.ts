// Pods for the kubelet service-account-token tests: JWT-shaped service
// account tokens, CredentialProviderRequests, and a node environment set up
// for workload identity image pulls against the local fakes.

import type { FakeMetadataServer, FakeSts } from "./fakes.ts";
import { makeGcrEnv, type GcrTestEnv } from "./support.ts";
import { serviceAccountToken } from "../support/kubelet.ts";

export const V1 = "credentialprovider.kubelet.k8s.io/v1";
export const IDENTITY_PROVIDER =
  "https://container.googleapis.com/v1/projects/cch-test-project/locations/us-central1/clusters/c1";
export const AUDIENCE = `identitynamespace:cch-test-project.svc.id.goog:${IDENTITY_PROVIDER}`;
export const OPT_IN = { "iam.gke.io/enable-wi-image-pull": "true" };

/** A pod's token with GKE's audience. */
export const saToken = (namespace: string, name: string, uid: string, nonce = "n"): string =>
  serviceAccountToken(namespace, name, uid, { nonce, audience: "cch-test-project.svc.id.goog" });

export function kubeletRequest(image: string, token?: string, annotations?: Record<string, string>): object {
  return {
    kind: "CredentialProviderRequest",
    apiVersion: V1,
    image,
    ...(token ? { serviceAccountToken: token } : {}),
    ...(annotations ? { serviceAccountAnnotations: annotations } : {}),
  };
}

/** Environment of a node set up for workload identity image pulls against the fakes. */
export function workloadEnv(md: FakeMetadataServer, sts: FakeSts, extra: Record<string, string> = {}): GcrTestEnv {
  return makeGcrEnv({
    GCE_METADATA_HOST: md.host,
    CCH_GCR_IDENTITY_PROVIDER: IDENTITY_PROVIDER,
    CCH_GCR_STS_ENDPOINT: `${sts.url}/v1/token`,
    ...extra,
  });
}
