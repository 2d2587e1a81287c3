// Are we on an OCI instance? Decides how long the automatic identity order
// may wait for the instance metadata service. Off OCI, 169.254.169.254 often
// swallows packets, and `docker build` (which calls the helper for every
// credHelpers entry) would wait each time; on OCI the service is there and
// may be slow under load, so the whole deadline applies. The check is the one
// cloud-init's Oracle datasource makes: the DMI chassis asset tag.

import { readFileSync } from "node:fs";

export const DMI_ASSET_TAG = "/sys/class/dmi/id/chassis_asset_tag";
const OCI_ASSET_TAG = "OracleCloud.com";

/** How long an automatic-mode probe waits for the metadata service off OCI. */
export const METADATA_PROBE_MS = 500;

export function onOci(path: string = DMI_ASSET_TAG): boolean {
  try {
    return readFileSync(path, "utf8").trim() === OCI_ASSET_TAG;
  } catch {
    return false;
  }
}

/** The cap on a metadata wait: none when the identity was chosen explicitly or we are on OCI. */
export function metadataWaitCapMs(automatic: boolean, isOci: () => boolean = onOci): number {
  return automatic && !isOci() ? METADATA_PROBE_MS : Infinity;
}
