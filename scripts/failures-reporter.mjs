// A node:test reporter that writes one line per failed test (not todo, not a suite whose subtests
// failed) with its file, its name and the first line of its error. scripts/test.mjs adds it next to the
// spec reporter and prints what it wrote once every Node's run is over, so that the last lines of a
// long CI log say which tests failed, whatever scrolled away above them.
export default async function* failures(source) {
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { data } = event;
    if (data.todo !== undefined && data.todo !== false) continue;
    const error = data.details?.error;
    if (error?.failureType === 'subtestsFailed') continue;
    const cause = error?.cause ?? error;
    const message = String(cause?.message ?? cause ?? '').split('\n')[0];
    const where = data.file ? `${data.file}${data.line ? `:${data.line}` : ''}` : '(no file)';
    yield `${where} | ${data.name} | ${message}\n`;
  }
}
