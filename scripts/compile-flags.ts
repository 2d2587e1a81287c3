// The `bun build --compile` flags of a release executable, shared by
// scripts/build.ts and by the runtime floor scripts/bench.ts compiles (an
// empty program built exactly as the helpers are).

export const COMPILE_FLAGS: readonly string[] = [
  "--minify",
  "--bytecode",
  "--format=esm",
  "--splitting",
  // A compiled Bun program otherwise reads .env and bunfig.toml from the
  // working directory: a repository's .env could then point us at another
  // endpoint (AWS_ENDPOINT_URL_ECR, AZURE_AUTHORITY_HOST…) during docker build.
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
];
