import { readFile } from 'node:fs/promises';

/**
 * Reads and parses a JSON file, failing with the caller's error type: `missing` when the file
 * cannot be read, "<path> is not valid JSON: …" when it does not parse.
 */
export async function readJsonFile(path: string, fail: (message: string) => Error, missing: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw fail(missing);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}
