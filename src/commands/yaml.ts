// YAML for the configuration we print, through Bun's built-in YAML library
// (commands only: never on the get path). It quotes whatever a YAML reader
// could take for something else ("*.gcr.io", "on", "1.33").

export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue | undefined };

export function toYaml(value: YamlValue): string {
  return Bun.YAML.stringify(value, null, 2).replace(/\n*$/, "\n");
}
