// The error codes docs/errors.md documents: the oracle "nothing but documented WebSocketErrors" reads
// them from the page itself, so that a code missing from the docs is a finding.
import { readFileSync } from 'node:fs';

export function documentedCodes(): Set<string> {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  return new Set(text.match(/\b(?:WS_ERR|Z)_[A-Z0-9_]+/g) ?? []);
}
