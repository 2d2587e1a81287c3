// JSON.parse keeps the last of two equal keys in an object; a request where
// `"serviceAccountToken":"t","serviceAccountToken":""` reads as "no token"
// must be refused instead. This finds the first repeated key in text that
// is already known to be valid JSON.

/** The first key that appears twice in one object, or null. `text` must be valid JSON. */
export function firstDuplicateKey(text: string): string | null {
  // One set of keys per open object; null for an open array.
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return null;
}
