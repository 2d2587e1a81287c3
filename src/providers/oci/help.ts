// `--help` lines for docker-credential-oci: the settings keys and environment.

export const OCI_HELP_TEXT = `OCIR settings (configuration file, "registries": {"<host>": {…}}):
  auth                     api_key | session_token | instance_principal | resource_principal |
                           oke_workload_identity (default: the first found, in that order,
                           instance principal last)
  configFile, profile      OCI configuration file and profile for api_key / session_token
  tokenEndpoint            base URL serving /20180419/docker/token (https, or http to 127.0.0.1)
  alias                    the OCIR host this name stands for

OCIR environment:
  CCH_OCI_AUTH, OCI_CLI_AUTH          default auth (OCI_CLI_AUTH=security_token is session_token)
  OCI_CONFIG_FILE, OCI_CLI_PROFILE    configuration file (default ~/.oci/config) and profile
  OCI_RESOURCE_PRINCIPAL_*            resource principal: VERSION 2.2 with RPST, PRIVATE_PEM and
                                      REGION (Functions, jobs), or 1.1 with RPT_ENDPOINT (+ RPT_PATH,
                                      RPT_ID, RPST_ENDPOINT; signed by the instance principal); an
                                      incomplete set is skipped, and named
  OCI_RESOURCE_PRINCIPAL_VERSION + OCI_RESOURCE_PRINCIPAL_REGION + KUBERNETES_SERVICE_HOST
                                      OKE workload identity as the OCI SDKs find it: the proxymux on
                                      port 12250 (KUBERNETES_SERVICE_PORT_PROXYMUX overrides it), or
                                      CCH_OCI_PROXYMUX_URL; also used in kubelet service-account
                                      mode, where the pod's token is exchanged
  CCH_OCI_METADATA_URL                instance metadata (default http://169.254.169.254/opc/v2/)
  CCH_OCI_FEDERATION_ENDPOINT         auth service for instance principals (default from the region)
  OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH, CCH_OCI_KUBERNETES_CA_FILE
                                      cluster CA for the proxymux (default <serviceaccount>/ca.crt)
  CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE  token for auth=oke_workload_identity (default <serviceaccount>/token)
`;
