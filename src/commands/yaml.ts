// Just enough YAML to print configuration: block mappings and sequences of
// plain data. Strings are double-quoted (JSON string syntax is valid YAML), so
// nothing is ever misread as a number, boolean or glob-special token.

export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue | undefined };

export function toYaml(value: YamlValue, indent = 0): string {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map((item) => {
        if (isBlock(item)) {
          const body = toYaml(item, indent + 2);
          return `${pad}- ${body.slice(indent + 2)}`;
        }
        return `${pad}- ${scalar(item)}\n`;
      })
      .join("");
  }
  if (typeof value === "object") {
    const entries = Object.entries(value).filter((e): e is [string, YamlValue] => e[1] !== undefined);
    if (entries.length === 0) return `${pad}{}\n`;
    return entries
      .map(([k, v]) => {
        if (isBlock(v) && !isEmpty(v)) return `${pad}${k}:\n${toYaml(v, Array.isArray(v) ? indent : indent + 2)}`;
        return `${pad}${k}: ${isBlock(v) ? (Array.isArray(v) ? "[]" : "{}") : scalar(v)}\n`;
      })
      .join("");
  }
  return `${pad}${scalar(value)}\n`;
}

function isBlock(v: YamlValue): v is YamlValue[] | { [key: string]: YamlValue | undefined } {
  return typeof v === "object";
}

function isEmpty(v: YamlValue[] | { [key: string]: YamlValue | undefined }): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.values(v).every((x) => x === undefined);
}

function scalar(v: string | number | boolean): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}
