/** Types of scripts/build-web.mjs for the TypeScript callers (the tests' global setup). */
export function buildWeb(options?: { quiet?: boolean }): Promise<Record<string, string>>;
